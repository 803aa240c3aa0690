// The one jail.conf grammar, used by nest and by the simulated jail(8) alike.
export {lex, type Piece, type Token} from './lexer.js'
export {parseConfig, type Block, type ConfError, type ConfigAst, type IncludeReader, type ParamStmt, type Value} from './parser.js'
export {isWildcard, lastValue, paramValues, resolveConfig, wildcardMatches, type ResolvedJail, type ResolvedParam} from './resolve.js'
export {printConfig, printParam, quoteValue, type PrintBlock, type PrintParam} from './printer.js'
export * from './params.js'
