// electra-webgpu: the engine core, usable unchanged in browsers. Node-only pieces (Dawn, files) live in src/node.
export {};
