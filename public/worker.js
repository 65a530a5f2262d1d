// The scene jobs' Web Worker (client/src/jobs/): the same WASM module as the page, without
// the page. main() sees no window and mounts nothing; the page sends one request at a time
// ({op, ...}) and gets one answer back ({op, ...} or {op: 'error', message}); export also
// sends {op: 'progress', fraction} while it works. Pixels and files come back transferred.
import init, { worker_load, worker_render_tile, worker_check_phase, worker_export } from './client.js';

const ready = init({ module_or_path: new URL('./client_bg.wasm', import.meta.url) });

self.onmessage = async ({ data }) => {
  try {
    await ready;
    switch (data.op) {
      case 'load':
        worker_load(data.update);
        self.postMessage({ op: 'loaded' });
        break;
      case 'tile': {
        const pixels = worker_render_tile(data.width, data.height, data.index);
        self.postMessage({ op: 'tile', index: data.index, pixels }, [pixels.buffer]);
        break;
      }
      case 'check':
        self.postMessage({ op: 'check', phase: data.phase, findings: worker_check_phase(data.phase) });
        break;
      case 'export': {
        const bytes = worker_export((fraction) => self.postMessage({ op: 'progress', fraction }));
        self.postMessage({ op: 'export', bytes }, [bytes.buffer]);
        break;
      }
      default:
        self.postMessage({ op: 'error', message: 'unknown request ' + data.op });
    }
  } catch (error) {
    self.postMessage({ op: 'error', message: String(error && error.message || error) });
  }
};
