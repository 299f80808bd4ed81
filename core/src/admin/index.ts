// The admin page and local HTTP API served by `cfx run` (`admin:` in cfx.yaml). Loaded on demand
// by Service.start(), so a cfx without `admin:` never loads fastify.
export { startAdmin, stopAdmin, adminServerOf, buildAdminApp, type AdminServer } from './server.js';
export { bearerMatches, hostAllowed, originAllowed } from './auth.js';
export { pickLang, LABELS, type Lang } from './i18n.js';
export { ApiError, toApiError, type ApiErrorBody } from './http-errors.js';
