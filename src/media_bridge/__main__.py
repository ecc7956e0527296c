from media_bridge.cli import main

raise SystemExit(main())
