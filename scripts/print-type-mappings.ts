/**
 * Prints the type- and collation-mapping tables as Markdown, for the README between
 * <!-- type-mappings:start --> and <!-- type-mappings:end --> (a unit test keeps them equal).
 * Run: npx tsx scripts/print-type-mappings.ts
 */
import {renderTypeMappingMarkdown} from '../src/migrators/schema/type-mapping.js'

process.stdout.write(renderTypeMappingMarkdown())
