// The official Node SDK (@sinch/sdk-core) against a running convbatch server.
// Run by tests/e2e/test_node_sdk.py, which starts the server and passes its address and a
// tenant in CB_URL, CB_PROJECT, CB_KEY_ID, CB_KEY_SECRET and CB_APP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SinchClient } from '@sinch/sdk-core';

const { CB_URL, CB_PROJECT, CB_KEY_ID, CB_KEY_SECRET, CB_APP } = process.env;

const sinch = new SinchClient({
  projectId: CB_PROJECT,
  keyId: CB_KEY_ID,
  keySecret: CB_KEY_SECRET,
  authHostname: CB_URL,
  conversationHostname: `${CB_URL}/conversation`,
});
const conversation = sinch.conversation;

// The SDK has no Batch API client: batch calls go over fetch with a token of the same
// OAuth2 endpoint the SDK uses.
async function token() {
  const basic = Buffer.from(`${CB_KEY_ID}:${CB_KEY_SECRET}`).toString('base64');
  const reply = await fetch(`${CB_URL}/oauth2/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  assert.equal(reply.status, 200);
  return (await reply.json()).access_token;
}

async function batchCall(method, path, body) {
  const reply = await fetch(`${CB_URL}/v1/projects/${CB_PROJECT}${path}`, {
    method,
    headers: { Authorization: `Bearer ${await token()}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: reply.status, json: await reply.json() };
}

function recipient(identity, name) {
  return {
    recipient: { identified_by: { channel_identities: [{ channel: 'SMS', identity }] } },
    parameters: { name },
  };
}

test('a scheduled batch is sent, read, cancelled by camelCase id, and its messages listed', async () => {
  const sendAfter = new Date(Date.now() + 3600_000).toISOString();
  const sent = await batchCall('POST', '/messages', {
    app_id: CB_APP,
    message: { text_message: { text: 'Hi ${name}' } },
    recipient_and_params: [recipient('+46700000019', 'Ann'), recipient('+46700000029', 'Bo')],
    batch_metadata: { campaign: 'node' },
    send_after: sendAfter,
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.json));
  const batchId = sent.json.batch_id;
  assert.ok(sent.json.send_after >= sendAfter.slice(0, 16));

  const status = await batchCall('GET', `/messages/${batchId}`);
  assert.equal(status.json.status, 'SCHEDULED');
  assert.deepEqual(status.json.meta_data, { campaign: 'node' });

  const cancelled = await batchCall('DELETE', '/messages', { batchId });
  assert.equal(cancelled.status, 200);
  assert.deepEqual(cancelled.json, {});
  assert.equal((await batchCall('GET', `/messages/${batchId}`)).json.status, 'CANCELLED');
  const nothing = await batchCall('DELETE', '/messages', {});
  assert.deepEqual([nothing.status, nothing.json], [200, {}]);

  const listed = [];
  for await (const message of conversation.messages.list({ app_id: CB_APP, channel_identity: '+46700000029' })) {
    listed.push(message);
  }
  assert.equal(listed.length, 1);
  assert.equal(listed[0].app_message.text_message.text, 'Hi Bo');
  assert.equal(JSON.parse(listed[0].metadata)._batch_id, batchId);
});

test('an immediate batch message reads back with its status through messages.get', async () => {
  const sent = await batchCall('POST', '/messages', {
    app_id: CB_APP,
    message: { text_message: { text: 'Now ${name}' } },
    recipient_and_params: [recipient('+46700000039', 'Cy')],
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.json));
  const page = await conversation.messages.list({ app_id: CB_APP, page_size: 1 });
  const [newest] = page.data;
  assert.equal(newest.app_message.text_message.text, 'Now Cy');
  const fetched = await conversation.messages.get({ message_id: newest.id });
  assert.equal(fetched.id, newest.id);
  assert.ok(['QUEUED', 'QUEUED_ON_CHANNEL', 'DELIVERED', 'READ'].includes(fetched.message_status.status));
});

test('contacts are found by a phone identity the SDK sends with an unencoded +', async () => {
  const created = await conversation.contact.create({
    contactCreateRequestBody: {
      channel_identities: [{ channel: 'SMS', identity: '+46700000049' }],
      language: 'EN_US',
      display_name: 'Dee',
    },
  });
  const found = [];
  for await (const contact of conversation.contact.list({ channel: 'SMS', identity: '+46700000049' })) {
    found.push(contact.id);
  }
  assert.deepEqual(found, [created.id]);
});

test('a webhook is created without triggers', async () => {
  const webhook = await conversation.webhooks.create({
    webhookCreateRequestBody: { app_id: CB_APP, target: 'https://example.com/node-hook' },
  });
  assert.deepEqual(webhook.triggers, []);
  await conversation.webhooks.delete({ webhook_id: webhook.id });
});

test('consent reads come back in the SDK types', async () => {
  const inserted = await batchCall('POST', '/consents', {
    app_id: CB_APP,
    consent_records: [{ identification: '+46700000059', consent_type: 'OPT_OUT_MARKETING' }],
  });
  assert.equal(inserted.status, 200, JSON.stringify(inserted.json));
  // The insert is a job: wait (bounded) until the identity is on the list.
  let identities = [];
  for (let attempt = 0; attempt < 100 && identities.length === 0; attempt += 1) {
    const page = await conversation.consents.listIdentities({ app_id: CB_APP, list_type: 'OPT_OUT_MARKETING' });
    identities = page.data;
    if (identities.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(identities, [{ identity: '+46700000059' }]);
  const audit = await conversation.consents.listAuditRecords({ app_id: CB_APP, identity: '+46700000059' });
  assert.deepEqual(audit.identity, { identity: '+46700000059' });
  assert.equal(audit.audit_records[0].list_type, 'OPT_OUT_MARKETING');
});
