// The reference y-websocket server: @y/websocket-server's own bin (src/server.js, pinned
// in package.json, with its own ws), on loopback only. PORT=N node y-websocket-server.mjs
// Used by scripts/bench.sh. The bin prints "running at '127.0.0.1' on port N" when ready.
process.env.HOST = '127.0.0.1'
process.env.PORT = process.env.PORT || '1234'
await import('./node_modules/@y/websocket-server/src/server.js')
