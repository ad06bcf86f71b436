/**
 * @olchat-kit/core/dashboard: the admin page's logic, views, styles and words. The adapters'
 * `olchatDashboard` mounts it; an app does not import it directly.
 */

export { createDashboard } from './dashboard.js';
export type { DashboardLang, DashboardOptions, DashboardRequest, OlchatDashboard } from './types.js';
