export { CONTENT_SECURITY_POLICY } from './answers.js';
export { createDashboard } from './dashboard.js';
export { maskPhone } from './format.js';
export type { DashboardLang, DashboardOptions, DashboardRequest, OlchatDashboard } from './types.js';
