export { createDashboard } from './dashboard.js';
export type { DashboardLang, DashboardOptions, DashboardRequest, OlchatDashboard } from './types.js';
