import postgres from 'postgres'

/**
 * Seeds Rapport's own schema with the shape of the peers' seed (../shared/bench/peers/seed.sql):
 * per workspace N contacts, the first quarter with 28 interactions each and the rest with 4
 * (1,000,000 at N = 100,000), N/2 promises; two workspaces, so tenancy filters and RLS do real
 * work. Set-based SQL, so it takes minutes, not hours. Ids encode the row number.
 */
export async function seed (url: string, contacts: number, workspaces = ['bench', 'bench2']): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  const hot = Math.floor(contacts / 4)
  for (const ws of workspaces) {
    await sql`insert into workspaces (id, name) values (${ws}, ${ws}) on conflict do nothing`
    const [{ n }] = await sql`select count(*)::int as n from contacts where workspace_id = ${ws}`
    if (n >= contacts) continue
    await sql.begin(async (tx) => {
      await tx`delete from workspaces where id = ${ws}`
      await tx`insert into workspaces (id, name) values (${ws}, ${ws})`
      await tx`insert into channels (workspace_id, id, kind, name, config)
        select ${ws}, 'chn_' || lpad(k::text, 26, '0'), 'note', 'Channel ' || k, '{}' from generate_series(1, 6) k`
      await tx`insert into contacts (workspace_id, id, display_name, given_name, family_name, emails, phones, company, tags, created_at, updated_at)
        select ${ws}, 'con_' || lpad(n::text, 26, '0'), 'Person ' || n, 'Given' || n, 'Family' || n,
          jsonb_build_array(jsonb_build_object('address', 'person' || n || '@example.com', 'primary', true)),
          array['+1415' || lpad((n % 10000000)::text, 7, '0')], 'Company ' || (n % 1000), array['tag' || (n % 10)],
          timestamptz '2024-01-01' + n * interval '5 minutes', timestamptz '2024-01-01' + n * interval '5 minutes'
        from generate_series(1, ${contacts}) n`
      await tx`insert into contact_emails (workspace_id, email, contact_id, is_primary)
        select ${ws}, 'person' || n || '@example.com', 'con_' || lpad(n::text, 26, '0'), true from generate_series(1, ${contacts}) n`
      await tx`insert into interactions (workspace_id, id, contact_id, channel_id, direction, kind, body, occurred_at)
        select ${ws}, 'int_' || lpad((c * 100 + k)::text, 26, '0'), 'con_' || lpad(c::text, 26, '0'), 'chn_' || lpad((1 + (c + k) % 6)::text, 26, '0'),
          case when k % 2 = 0 then 'inbound' else 'outbound' end, 'note', 'Message ' || k || ' with contact ' || c,
          timestamptz '2024-01-01' + c * interval '5 minutes' + k * interval '1 hour'
        from generate_series(1, ${contacts}) c, generate_series(1, 28) k where k <= case when c <= ${hot} then 28 else 4 end`
      await tx`insert into promises (workspace_id, id, contact_id, promisor, promisor_type, description, kind, due_at, original_due_at, status, created_at, updated_at)
        select ${ws}, 'prm_' || lpad(n::text, 26, '0'), 'con_' || lpad((1 + (n * 7) % ${contacts})::text, 26, '0'), 'owner' || (n % 20), 'member',
          'Promise ' || n, (array['callback','quote','refund','delivery'])[1 + n % 4], timestamptz '2027-01-01' + n * interval '1 hour',
          timestamptz '2027-01-01' + n * interval '1 hour', 'open', now(), now()
        from generate_series(1, ${Math.floor(contacts / 2)}) n`
    })
  }
  // As the peers' seed.sql ends: without VACUUM, the first reads of every freshly written page set
  // its hint bits (writes) and autovacuum works through a million new rows during the measured load.
  await sql`vacuum analyze`
  await sql.end()
}
