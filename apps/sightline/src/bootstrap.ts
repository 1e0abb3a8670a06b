import type { DomainServices, Logger } from '@sightline/domain';

/**
 * First start: creates an organization with an admin key (returned so the caller can print its
 * secret once). With `adminSecret`, makes sure the first organization's admin key has that secret.
 * @returns the secret to print, or undefined when nothing new was created
 */
export async function ensureFirstOrganization(services: DomainServices, log: Logger, adminSecret?: string): Promise<string | undefined> {
  const [first] = await services.organizations.list();
  if (!first) {
    const { organization, adminKey } = await services.organizations.create('My Organization', { adminSecret });
    log.info({ organization_id: organization.id }, 'created the first organization');
    return adminSecret ? undefined : adminKey.secret;
  }
  if (adminSecret && (await services.apiKeys.ensureSecret(first.id, adminSecret))) {
    log.info({ organization_id: first.id }, 'admin API key secret set from SIGHTLINE_ADMIN_API_KEY');
  }
  return undefined;
}
