export { type OtelTelemetryOptions, otelTelemetry } from './otel-telemetry.js';
