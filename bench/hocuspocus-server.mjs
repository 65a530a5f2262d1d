// @hocuspocus/server (pinned in package.json) with no extensions: in-memory documents, no
// auth, on loopback only. PORT=N node hocuspocus-server.mjs. Used by scripts/bench.sh.
import { Server } from '@hocuspocus/server'

const port = Number(process.env.PORT || '1235')
const server = new Server({ port, address: '127.0.0.1', quiet: true })
await server.listen()
console.log(`listening on ${port}`)
