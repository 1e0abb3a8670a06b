export * from './app.js';
export { ViewerAssets } from './shared-page/assets.js';
export { SHARED_PAGE_ROUTES } from './routes/shared-dashboards/shared-dashboard.router.js';
export { DOCUMENTATION_ROUTES, openApiDocument } from './openapi/openapi.router.js';
export { AgentRelay, startAgentRelay, type AgentRelayDeps } from './agent-relay/agent-relay.js';
