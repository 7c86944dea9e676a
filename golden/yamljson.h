/* yamljson.h - a YAML file read into a cJSON tree (libyaml's event parser underneath).
 *
 * Mappings become objects, sequences arrays. Quoted scalars stay strings; plain scalars become
 * numbers when the whole scalar parses as one (1e-4, 12, -3), true/false as booleans, null/~/empty
 * as null, anything else a string. Anchors and aliases are refused (a config has no need of them
 * and they allow exponential expansion). Duplicate keys in one mapping are an error. */
#ifndef Q35_YAMLJSON_H
#define Q35_YAMLJSON_H

#include <cJSON.h>
#include <stddef.h>

/* Parses path's first YAML document. Returns a new tree (cJSON_Delete it), or NULL with err
 * naming the file, line and column of the problem. An empty file gives an empty object. */
cJSON *q35_yaml_load(const char *path, char *err, size_t errlen);

#endif
