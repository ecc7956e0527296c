"""AudioHook Monitor: a server that takes live Genesys call audio and feeds the customer
channel to the biometrics sink while the call runs, plus a client simulator.

Entry points: ``AudioHookServer`` (server), ``AudioHookSettings`` (settings),
``AudioChunkSink`` / ``DirChunkSink`` / ``HttpChunkSink`` (sinks),
``run_session`` / ``run_many`` / ``ClientConfig`` (simulator, in ``client``).
"""
