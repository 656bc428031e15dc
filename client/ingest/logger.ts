/** The ingest service's logger: pino JSON lines on stdout (or a given stream), credentials kept out. */
import pino, { type DestinationStream, type Logger } from 'pino';

/** A review link's token in a logged URL would let anyone who reads the logs decide the review. */
export function withoutToken(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'spawnguard-ingest' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: {
        // Replaces fastify's request serializer: the same fields, with the URL's token removed.
        req: (request: LoggedRequest) => ({
          method: request.method,
          url: withoutToken(request.url ?? ''),
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    },
    destination,
  );
}
