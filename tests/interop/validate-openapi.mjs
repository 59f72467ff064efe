// Validates the OpenAPI document on stdin against the specification's JSON Schema for its
// version (npm @seriousme/openapi-schema-validator, which carries the schemas published at
// spec.openapis.org). Prints {"valid": bool, "version": "3.1", "errors": [...]}; used by
// tests/tests/openapi.rs.
import { Validator } from '@seriousme/openapi-schema-validator';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const validator = new Validator();
const result = await validator.validate(JSON.parse(input));
console.log(JSON.stringify({
  valid: result.valid,
  version: validator.version,
  errors: result.valid ? [] : result.errors,
}));
