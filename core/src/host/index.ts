export { PluginHost, type HostOptions, type PluginStatus } from './host.js';
export { BUILTIN_PLUGINS, locatePlugin, readManifest, type PluginDescriptor, type ManifestProblem } from './manifest.js';
