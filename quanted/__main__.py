from quanted.cli import main

raise SystemExit(main())
