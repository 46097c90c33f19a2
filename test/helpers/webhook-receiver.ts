// A webhook receiver on 127.0.0.1: records every delivery with its headers and raw body, and
// answers what the test says (a status per call), so tests see exactly what mir sent.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly status: number;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: Received[];
  /** The status of the next answers: called with the number of the call (1-based). */
  answer: (call: number) => number;
  close(): Promise<void>;
}

export async function startReceiver(answer: (call: number) => number = () => 204, port = 0): Promise<WebhookReceiver> {
  const received: Received[] = [];
  const receiver: { answer: (call: number) => number } = { answer };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = receiver.answer(received.length + 1);
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? `refused with ${status}` : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${address.port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as WebhookReceiver;
}

/** The accepted deliveries (2xx answers). */
export function accepted(receiver: WebhookReceiver): Received[] {
  return receiver.received.filter((r) => r.status >= 200 && r.status < 300);
}
