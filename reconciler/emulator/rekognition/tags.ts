// Tags on projects and versions: ListTagsForResource, TagResource, UntagResource.

import { invalid, notFound } from "../errors.js";
import { tagProblems } from "../state.js";
import type { World } from "../world.js";
import { denyForeign, requiredString, type Caller, type Handler } from "./context.js";

function findTaggable(world: World, region: string, account: string, arn: string, caller: Caller): Map<string, string> {
  denyForeign(arn, caller);
  for (const project of world.projectsIn(region, account)) {
    if (project.arn === arn) return project.tags;
    const version = project.versions.find((v) => v.arn === arn);
    if (version) return version.tags;
  }
  throw notFound(`The resource ${arn} was not found.`);
}

export const ListTagsForResource: Handler = (body, { region, account, caller, world }) => {
  const tags = findTaggable(world, region, account, requiredString(body, "ResourceArn"), caller);
  return { Tags: Object.fromEntries(tags) };
};

export const TagResource: Handler = (body, { region, account, caller, world }) => {
  const tags = findTaggable(world, region, account, requiredString(body, "ResourceArn"), caller);
  const add = body.Tags;
  if (typeof add !== "object" || add === null || Array.isArray(add)) throw invalid("Tags is required");
  const addRecord = add as Record<string, unknown>;
  const problems = tagProblems(addRecord);
  if (problems.length > 0) throw invalid(problems.join("; "));
  const merged = new Set([...tags.keys(), ...Object.keys(addRecord)]);
  if (merged.size > 200) throw invalid(`A resource can have at most 200 tags (would have ${merged.size}).`);
  for (const [k, v] of Object.entries(addRecord)) tags.set(k, v as string);
  return {};
};

export const UntagResource: Handler = (body, { region, account, caller, world }) => {
  const tags = findTaggable(world, region, account, requiredString(body, "ResourceArn"), caller);
  const keys = body.TagKeys;
  if (!Array.isArray(keys) || keys.length > 200 || !keys.every((k) => typeof k === "string")) {
    throw invalid("TagKeys must be a list of at most 200 keys");
  }
  for (const k of keys as string[]) {
    if (k.length < 1 || k.length > 128 || k.toLowerCase().startsWith("aws:")) throw invalid(`Invalid tag key "${k}"`);
  }
  for (const k of keys as string[]) tags.delete(k);
  return {};
};
