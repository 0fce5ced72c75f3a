// Tags on projects and versions: ListTagsForResource, TagResource, UntagResource.

import { ApiError, invalid, notFound } from "../errors.js";
import type { World } from "../world.js";
import { denyForeign, optMap, str, type Body, type Caller, type Handler } from "./context.js";

// The model gives ResourceArn only a length; something that is not an ARN at all is still refused before any
// lookup, as a parameter error rather than "not found".
const ANY_ARN = /^arn:[a-z\d-]+:[a-z\d-]+:[a-z\d-]*:\d{12}:.+$/;
const MAX_TAGS = 200;

function findTaggable(world: World, region: string, account: string, body: Body, caller: Caller): Map<string, string> {
  const arn = str(body, "ResourceArn");
  if (!ANY_ARN.test(arn)) throw invalid(`ResourceArn ${arn} is not an ARN.`);
  denyForeign(arn, caller);
  for (const project of world.projectsIn(region, account)) {
    if (project.arn === arn) return project.tags;
    const version = project.versions.find((v) => v.arn === arn);
    if (version) return version.tags;
  }
  throw notFound(`The resource ${arn} was not found.`);
}

export const ListTagsForResource: Handler = (body, { region, account, caller, world }) => {
  const tags = findTaggable(world, region, account, body, caller);
  return { Tags: Object.fromEntries(tags) };
};

export const TagResource: Handler = (body, { region, account, caller, world }) => {
  const tags = findTaggable(world, region, account, body, caller);
  const add = optMap(body, "Tags") ?? {};
  const merged = new Set([...tags.keys(), ...Object.keys(add)]);
  // A request may carry 200 tags (the model's limit); a resource may hold 200 in all. Going over is the one
  // quota TagResource can hit, hence its ServiceQuotaExceededException.
  if (merged.size > MAX_TAGS) {
    throw new ApiError("ServiceQuotaExceededException", `A resource can have at most ${MAX_TAGS} tags; this request would leave ${merged.size}.`);
  }
  for (const [k, v] of Object.entries(add)) tags.set(k, v);
  return {};
};

export const UntagResource: Handler = (body, { region, account, caller, world }) => {
  const tags = findTaggable(world, region, account, body, caller);
  for (const k of body.TagKeys as string[]) tags.delete(k);
  return {};
};
