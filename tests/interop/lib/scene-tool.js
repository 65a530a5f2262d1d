// The Rust scene model (shared::scene) as a command: the `scene_interop` example of the shared
// crate reads a Yjs update and prints the resolved scene as JSON (`read`), or writes a sample
// scene (`write`). Built with `cargo build -p shared --example scene_interop`, or taken from
// SCENE_INTEROP_BIN (path to a built `scene_interop`).

import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** Builds (or finds) the tool; returns `run(command, input) -> Buffer`. */
export function sceneInteropTool () {
  let tool
  if (process.env.SCENE_INTEROP_BIN) {
    tool = path.resolve(process.env.SCENE_INTEROP_BIN)
  } else {
    execFileSync('cargo', ['build', '--locked', '-q', '-p', 'shared', '--example', 'scene_interop'], { cwd: repoRoot, stdio: 'inherit' })
    const target = process.env.CARGO_TARGET_DIR ? path.resolve(repoRoot, process.env.CARGO_TARGET_DIR) : path.join(repoRoot, 'target')
    tool = path.join(target, 'debug', 'examples', process.platform === 'win32' ? 'scene_interop.exe' : 'scene_interop')
  }
  return (command, input) => execFileSync(tool, [command], { input, maxBuffer: 16 << 20 })
}
