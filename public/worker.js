// The tools worker (client/src/tools_worker.rs): the scene jobs (render preview, scene check,
// .glb export) and the file conversions (glTF import, scene JSON open and save), in the
// `worker` crate's own WASM module, which the editor's page never loads itself. The page
// sends the scene once ({op: 'load', update}), then one request at a time ({op, ...}) and gets
// one answer back ({op, ...} or {op: 'error', message}); export also sends
// {op: 'progress', fraction} while it works. Pixels and files come back transferred.
import init, {
  worker_load, worker_render_tile, worker_check_phase, worker_export,
  worker_import_gltf, worker_open_json, worker_save_json,
} from './scene_tools.js';

const ready = init({ module_or_path: new URL('./scene_tools_bg.wasm', import.meta.url) });

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
      case 'import': {
        const answer = worker_import_gltf(data.bytes);
        self.postMessage({ op: 'import', ...answer }, [answer.update.buffer]);
        break;
      }
      case 'open-json': {
        const answer = worker_open_json(data.text);
        self.postMessage({ op: 'open-json', ...answer }, [answer.update.buffer]);
        break;
      }
      case 'save-json':
        self.postMessage({ op: 'save-json', text: worker_save_json() });
        break;
      default:
        self.postMessage({ op: 'error', message: 'unknown request ' + data.op });
    }
  } catch (error) {
    self.postMessage({ op: 'error', message: String(error && error.message || error) });
  }
};
