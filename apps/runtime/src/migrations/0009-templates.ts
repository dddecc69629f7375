import { Migration } from '@mikro-orm/migrations';

/**
 * The template marketplace (issue 12): the catalog (built-in and published templates with every
 * version's bundle), ratings, and installs with the permissions granted and what each created.
 */
export class Migration0009Templates extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table templates (
      id text primary key,
      source text not null check (source in ('builtin', 'user')),
      owner_id uuid references users(id),
      name text not null,
      description text not null default '',
      category text not null,
      tags jsonb not null default '[]',
      author text not null,
      latest_version text not null,
      permissions jsonb not null default '[]',
      install_count integer not null default 0,
      rating_sum integer not null default 0,
      rating_count integer not null default 0,
      published boolean not null default true,
      created_at timestamptz not null,
      updated_at timestamptz not null
    );`);
    this.addSql('create index templates_category_idx on templates (category) where published;');
    this.addSql(`create table template_versions (
      template_id text not null references templates(id) on delete cascade,
      version text not null,
      major integer not null, minor integer not null, patch integer not null,
      bundle jsonb not null,
      permissions jsonb not null default '[]',
      created_at timestamptz not null,
      primary key (template_id, version)
    );`);
    this.addSql(`create table template_ratings (
      template_id text not null references templates(id) on delete cascade,
      user_id uuid not null references users(id),
      stars integer not null check (stars between 1 and 5),
      review text not null default '',
      created_at timestamptz not null,
      updated_at timestamptz not null,
      primary key (template_id, user_id)
    );`);
    this.addSql(`create table template_installs (
      id uuid primary key,
      user_id uuid not null references users(id),
      template_id text not null references templates(id),
      version text not null,
      name text not null,
      variables jsonb not null default '{}',
      granted jsonb not null default '[]',
      created_at timestamptz not null,
      updated_at timestamptz not null,
      uninstalled_at timestamptz
    );`);
    this.addSql('create index template_installs_user_idx on template_installs (user_id, created_at desc) where uninstalled_at is null;');
    // What an install created: agents (by uuid) and flows (by flows.id, with the version it last
    // wrote, so an upgrade can tell the user's own edits from the template's).
    this.addSql(`create table template_install_items (
      install_id uuid not null references template_installs(id) on delete cascade,
      kind text not null check (kind in ('agent', 'flow')),
      ref text not null,
      resource_id text not null,
      base_version integer,
      base_document jsonb,
      primary key (install_id, kind, ref)
    );`);
    this.addSql('create index template_install_items_resource_idx on template_install_items (kind, resource_id);');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists template_install_items;');
    this.addSql('drop table if exists template_installs;');
    this.addSql('drop table if exists template_ratings;');
    this.addSql('drop table if exists template_versions;');
    this.addSql('drop table if exists templates;');
  }
}
