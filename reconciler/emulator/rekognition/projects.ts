// DescribeProjects.

import { decodeToken, fingerprint, paginate, type SortKey } from "../pagination.js";
import { optInt, optList, seconds, type Handler } from "./context.js";

export const DescribeProjects: Handler = (body, { region, account, world }) => {
  const names = optList(body, "ProjectNames");
  // Real AWS hides adapter projects unless CONTENT_MODERATION is asked for; a client that forgets
  // Features must not see them here either.
  const wanted = new Set<string>(optList(body, "Features") ?? ["CUSTOM_LABELS"]);
  const max = optInt(body, "MaxResults") ?? 100;
  const fp = fingerprint(["DescribeProjects", region, names ? [...names].sort() : null, [...wanted].sort()]);
  const now = world.now();
  const token = decodeToken(body.NextToken, fp, now, world.delays.tokenTtlMs);
  const matching = world
    .projectsIn(region, account)
    .filter((p) => wanted.has(p.feature) && (!names || names.includes(p.name)))
    .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
  const ascending = (a: SortKey, b: SortKey) => a[0] - b[0] || a[1].localeCompare(b[1]);
  const { page, next } = paginate(matching, (p) => [p.createdAt, p.name], ascending, max, token, fp, now);
  return {
    ProjectDescriptions: page.map((p) => ({
      ProjectArn: p.arn,
      CreationTimestamp: seconds(p.createdAt),
      Status: p.status,
      Feature: p.feature,
      AutoUpdate: p.autoUpdate,
    })),
    ...(next ? { NextToken: next } : {}),
  };
};
