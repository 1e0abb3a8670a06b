// Entry of a render worker thread. The thread loads the TypeScript sources through tsx, whether or
// not the parent process runs with a TypeScript loader (jest does not, `npm start` does).
import { tsImport } from 'tsx/esm/api';

await tsImport('./render-worker.ts', import.meta.url);
