import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/app.ts';

describe('OpenAPI', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp({ jobs: { workers: 0 } });
  });
  afterAll(() => t.close());

  it('serves an OpenAPI 3 document generated from the route schemas, and the UI at /docs', async () => {
    const res = await t.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/products', '/api/files/{sha256}', '/healthz']));
    const ui = await t.app.inject({ url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });

  it('names every operation uniquely, describes the upload form and the file answers', async () => {
    const doc = (await t.app.inject({ url: '/docs/json' })).json();
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((p) => Object.values(p));
    const ids = ops.map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.paths['/api/products/{id}'].get.operationId).toBe('getApiProductsById');
    const form = doc.paths['/api/products'].post.requestBody.content['multipart/form-data'].schema;
    expect(form.required).toEqual(['title', 'type', 'file']);
    expect(form.properties.file.items.format).toBe('binary');
    expect(form.properties.type.enum).toContain('leaflet');
    const file = doc.paths['/api/files/{sha256}'].get.responses;
    expect(Object.keys(file)).toEqual(expect.arrayContaining(['200', '206', '304', '404', '416']));
    expect(Object.keys(doc.paths['/api/files/{sha256}/thumbnail'].get.responses)).toEqual(expect.arrayContaining(['200', '404']));
    expect(Object.keys(file['200'].content)).toEqual(['*/*']);
    expect(Object.keys(doc.paths['/api/files/{sha256}/thumbnail'].get.responses['200'].content)).toEqual(['image/webp']);
  });
});
