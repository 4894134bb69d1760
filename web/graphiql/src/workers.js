// Monaco runs its language services in web workers. GraphiQL's ready-made
// worker setups need webpack, Vite or a CDN, so the page wires them itself:
// build.mjs bundles each worker into its own file next to the page script and
// passes their (content-hashed) names in through the __WORKER_FILES__ define.

// The workers live in the same folder as this script. document.currentScript
// is only set while the script first runs, so the folder is taken now, not
// when Monaco later asks for a worker.
const scriptURL =
  (document.currentScript && document.currentScript.src) || document.baseURI;
const baseURL = new URL('.', scriptURL);

/* global __WORKER_FILES__ */
const files = __WORKER_FILES__;

function workerURL(label) {
  // Monaco labels: 'json' for the variables/headers/response editors,
  // 'graphql' for the query editor, anything else for the generic editor worker.
  const file = files[label] || files.editor;
  return new URL(file, baseURL).href;
}

export function installMonacoWorkers() {
  self.MonacoEnvironment = {
    getWorker(_workerId, label) {
      return new Worker(workerURL(label), { name: label });
    },
  };
}
