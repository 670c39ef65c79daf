from lstmcast.cli import main

raise SystemExit(main())
