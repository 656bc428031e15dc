/**
 * Static rules over the PowerShell parse tree. No PowerShell runs here (DESIGN.md §5), so these
 * rules stand in for what a run would catch: syntax the real grammar rejects, constructs Windows
 * PowerShell 3.0 lacks, aliases, strings run as code, calls to commands or parameters that do not
 * exist (typos, newer cmdlets), missing mandatory arguments, variables read but never set (with
 * Set-StrictMode they would throw at run time), and the script contract (help, [CmdletBinding()],
 * typed parameters, -Request, one ConvertTo-Json document, explicit exit code inside the main
 * guard), the safety module's layout (its manifest exports exactly the functions its files define,
 * its root module loads every concern file) and the Windows seam (Windows-only calls only in
 * SpawnGuard.Safety/Platform.ps1).
 * Each rule returns readable violations; an empty list means the file passes.
 */
import type { Node, Tree } from 'web-tree-sitter';
import { COMMON_PARAMETERS, SHOULD_PROCESS_PARAMETERS } from './cmdlets';
import { describe as where, hasAncestorOfType, walk } from './parse';

export interface Violation {
  rule: string;
  at: string;
}

function violation(rule: string, node: Node): Violation {
  return { rule, at: where(node) };
}

const lower = (text: string) => text.toLowerCase();

// ---------- syntax ----------

/** ERROR and MISSING nodes: the real PowerShell grammar could not parse the text. */
export function syntaxErrors(tree: Tree): Violation[] {
  const found: Violation[] = [];
  for (const node of walk(tree.rootNode)) {
    if (node.isError) found.push(violation('syntax-error', node));
    else if (node.isMissing) found.push(violation('missing-token', node));
  }
  return found;
}

// ---------- commands ----------

export interface CommandElement {
  kind: 'parameter' | 'argument' | 'splat' | 'redirection';
  node: Node;
  /** Parameter name without the dash. */
  name?: string;
  /** `-Name:value`: the value is attached to the parameter. */
  colonValue?: boolean;
}

export interface CommandCall {
  node: Node;
  name: string;
  elements: CommandElement[];
}

/** Every command invoked by name (not `& $expr`), with its parameters and arguments in order. */
export function commandCalls(root: Node): CommandCall[] {
  return root.descendantsOfType('command').flatMap((command) => {
    const name = command.childForFieldName('command_name');
    if (!name || name.type !== 'command_name') return [];
    // `@(1..65)`: the grammar reads a leading numeric range as a command name; PowerShell reads an expression.
    if (/^-?\d+\.\.-?\d+$/.test(name.text)) return [];
    return [{ node: command, name: name.text, elements: commandElements(command) }];
  });
}

function commandElements(command: Node): CommandElement[] {
  const elements: CommandElement[] = [];
  const list = command.childForFieldName('command_elements');
  if (!list) return elements;
  let previous: Node | undefined;
  let colonPending = false;
  for (const child of list.children) {
    if (child.type === 'command_argument_sep') {
      if (child.text === ':' && previous?.type === 'command_parameter') colonPending = true;
      previous = child;
      continue;
    }
    if (child.type === 'command_parameter') {
      elements.push({ kind: 'parameter', node: child, name: child.text.replace(/^-+/, '') });
    } else if (child.type === 'redirection') {
      elements.push({ kind: 'redirection', node: child });
    } else if (child.type === 'argument_list' && previous && previous.type !== 'command_argument_sep') {
      // `$list.ToArray()` in argument mode: the grammar splits the call's parentheses off.
    } else if (/^@\w/.test(child.text)) {
      elements.push({ kind: 'splat', node: child });
    } else {
      if (colonPending) {
        const parameter = elements[elements.length - 1];
        if (parameter) parameter.colonValue = true;
      }
      elements.push({ kind: 'argument', node: child });
    }
    colonPending = false;
    previous = child;
  }
  return elements;
}

function commandParameters(call: CommandCall): string[] {
  return call.elements.filter((e) => e.kind === 'parameter').map((e) => lower(e.name ?? ''));
}

// ---------- Windows PowerShell 3.0 ----------

/** Constructs that Windows PowerShell 3.0 cannot run. */
export function ps3Incompatibilities(tree: Tree): Violation[] {
  const found: Violation[] = [];
  for (const node of walk(tree.rootNode)) {
    switch (node.type) {
      case 'invokation_expression': {
        const member = node.children.find((child) => child.type === 'member_name');
        const isStatic = node.children.some((child) => child.type === '::');
        // [Type]::new(...) is PowerShell 5.0.
        if (isStatic && member && /^new$/i.test(member.text)) found.push(violation('static-new', node));
        // $list.ForEach({...}) and .Where({...}) are PowerShell 4.0.
        if (!isStatic && member && /^(foreach|where)$/i.test(member.text))
          found.push(violation('intrinsic-method', node));
        break;
      }
      case 'class_statement':
        found.push(violation('class-statement', node));
        break;
      case 'enum_statement':
        found.push(violation('enum-statement', node));
        break;
      case 'pipeline_chain_tail':
        found.push(violation('pipeline-chain-operator', node));
        break;
      case 'parallel_statement':
      case 'foreach_parameter':
        found.push(violation('parallel', node));
        break;
      case 'command_parameter':
        if (/^-parallel$/i.test(node.text)) found.push(violation('parallel', node));
        break;
      case 'ERROR':
        // The grammar has no ternary, ?? / ??= or ?. : they surface as an error node starting with '?'.
        if (/^\s*\?/.test(node.text) && !hasAncestorOfType(node, ['string_literal', 'comment'])) {
          found.push(violation('ternary-or-null-operator', node));
        }
        break;
      default:
        break;
    }
  }
  for (const call of commandCalls(tree.rootNode)) {
    // `using namespace` / `using module` (PowerShell 5.0) parse as a command named `using`.
    if (lower(call.name) === 'using') found.push(violation('using-statement', call.node));
  }
  return found;
}

// ---------- aliases ----------

/** Built-in aliases (and alias-like short names) that must be spelled out. */
export const FORBIDDEN_ALIASES = [
  '?',
  '%',
  'ac',
  'cat',
  'cd',
  'chdir',
  'clc',
  'clear',
  'cls',
  'clv',
  'compare',
  'copy',
  'cp',
  'cpi',
  'curl',
  'del',
  'diff',
  'dir',
  'echo',
  'epal',
  'erase',
  'fc',
  'fl',
  'foreach',
  'ft',
  'fw',
  'gal',
  'gc',
  'gci',
  'gcm',
  'gdr',
  'gi',
  'gl',
  'gm',
  'gp',
  'gps',
  'group',
  'gsv',
  'gu',
  'gv',
  'gwmi',
  'h',
  'history',
  'icm',
  'iex',
  'ihy',
  'ii',
  'ipal',
  'ipmo',
  'irm',
  'iwmi',
  'iwr',
  'kill',
  'lp',
  'ls',
  'man',
  'md',
  'measure',
  'mi',
  'mount',
  'move',
  'mv',
  'nal',
  'ndr',
  'ni',
  'nv',
  'ogv',
  'popd',
  'ps',
  'pushd',
  'pwd',
  'r',
  'rd',
  'rdr',
  'ren',
  'ri',
  'rm',
  'rmdir',
  'rni',
  'rnp',
  'rp',
  'rv',
  'rvpa',
  'sal',
  'saps',
  'sasv',
  'sc',
  'select',
  'set',
  'si',
  'sl',
  'sleep',
  'sls',
  'sort',
  'sp',
  'spps',
  'spsv',
  'start',
  'sv',
  'tee',
  'type',
  'where',
  'wget',
  'write',
  'wjb',
  'rjb',
  'sajb',
  'gjb',
  'rcjb',
  'spjb',
  'nsn',
  'gsn',
  'rsn',
  'etsn',
  'exsn',
  'cnsn',
  'gin',
  'gtz',
  'stz',
  'scb',
  'gcb',
] as const;

export function aliasUses(tree: Tree): Violation[] {
  const aliases = new Set<string>(FORBIDDEN_ALIASES);
  return commandCalls(tree.rootNode)
    .filter((call) => aliases.has(lower(call.name)))
    .map((call) => violation(`alias:${lower(call.name)}`, call.node));
}

// ---------- strings run as code ----------

/**
 * No string is ever run as code: no Invoke-Expression, no -Command / -EncodedCommand, no
 * [ScriptBlock]::Create, no $ExecutionContext.InvokeCommand, and (in the scripts) no `&` or `.`
 * invocation of a computed command.
 */
export function dynamicExecution(
  tree: Tree,
  options: { allowCallOperator?: boolean; allowModuleLoader?: boolean } = {},
): Violation[] {
  const found: Violation[] = [];
  for (const call of commandCalls(tree.rootNode)) {
    const name = lower(call.name);
    if (name === 'invoke-expression' || name === 'iex') found.push(violation('invoke-expression', call.node));
    if (commandParameters(call).some((p) => /^(command|encodedcommand|enc|ec|c)$/.test(p))) {
      found.push(violation('command-parameter', call.node));
    }
  }
  for (const node of tree.rootNode.descendantsOfType(['invokation_expression', 'member_access'])) {
    const head = node.text.split('(')[0]?.replace(/\s+/g, '') ?? '';
    if (/^\[(system\.management\.automation\.)?scriptblock\]::create$/i.test(head))
      found.push(violation('scriptblock-create', node));
    if (/^\$executioncontext\.invokecommand/i.test(head)) found.push(violation('execution-context', node));
  }
  if (!options.allowCallOperator) {
    for (const command of tree.rootNode.descendantsOfType('command')) {
      if (!command.children.some((child) => child.type === 'command_invokation_operator')) continue;
      // A module root loading its own concern files: fixed names next to it, never a computed string.
      if (options.allowModuleLoader && dotSourcedModuleFiles(command) !== undefined) continue;
      found.push(violation('call-operator', command));
    }
  }
  return found;
}

const PLAIN_FILE_NAME = /^(?!\.{1,2}$)[\w.-]+$/;

function singleCommand(node: Node | undefined): Node | undefined {
  const commands = node?.descendantsOfType('command') ?? [];
  return commands.length === 1 ? commands[0] : undefined;
}

/** The single-quoted names of an `@('A', 'B')` (or `'A', 'B'`) literal list, or undefined if anything else is in it. */
export function literalNameList(node: Node): string[] | undefined {
  const names = stringLiterals(node);
  const rest = node.text
    .replace(/'(?:[^']|'')*'/g, '')
    .replace(/#[^\n]*/g, '')
    .replace(/[\s,]/g, '')
    .replace(/^@\((.*)\)$/s, '$1');
  return rest === '' ? names : undefined;
}

/**
 * The files a `. (Join-Path -Path $PSScriptRoot -ChildPath <name>)` command loads, where <name> is
 * a single-quoted file name, or `($name + '.ps1')` with $name the variable of an enclosing
 * `foreach ($name in @('A', 'B'))` over single-quoted names: fixed files next to the module,
 * nothing computed from input. Undefined for any other command.
 */
export function dotSourcedModuleFiles(command: Node): string[] | undefined {
  const operator = command.children.find((child) => child.type === 'command_invokation_operator');
  if (operator?.text !== '.') return undefined;
  const target = command.children.find((child) => child.type === 'command_name_expr');
  const paren = target?.children.find((child) => child.type === 'parenthesized_expression');
  if (!target || !paren || target.text !== paren.text) return undefined;
  const joinNode = singleCommand(paren);
  if (!joinNode) return undefined;
  const join = commandCalls(joinNode.parent ?? joinNode).find((call) => call.node.id === joinNode.id);
  if (!join || lower(join.name) !== 'join-path') return undefined;
  const elements = join.elements;
  if (
    elements.length !== 4 ||
    elements.some((e) => e.colonValue) ||
    lower(elements[0]?.name ?? '') !== 'path' ||
    !/^\$PSScriptRoot$/i.test(elements[1]?.node.text ?? '') ||
    lower(elements[2]?.name ?? '') !== 'childpath' ||
    elements[3]?.kind !== 'argument'
  ) {
    return undefined;
  }
  const child = elements[3].node.text;
  const literal = /^'([^']+)'$/.exec(child)?.[1];
  if (literal !== undefined) return PLAIN_FILE_NAME.test(literal) ? [literal] : undefined;
  const concatenated = /^\(\s*\$(\w+)\s*\+\s*'([^']+)'\s*\)$/.exec(child);
  if (!concatenated) return undefined;
  const [, variable, suffix] = concatenated;
  for (let node = command.parent; node; node = node.parent) {
    if (node.type !== 'foreach_statement') continue;
    const loopVariable = node.children.find((c) => c.type === 'variable');
    if (lower(loopVariable?.text ?? '') !== `$${lower(variable ?? '')}`) continue;
    const collection = node.children.find((c) => c.type === 'pipeline');
    const names = collection ? literalNameList(collection) : undefined;
    if (!names) return undefined;
    const files = names.map((name) => name + (suffix ?? ''));
    return files.every((file) => PLAIN_FILE_NAME.test(file)) ? files : undefined;
  }
  return undefined;
}

// ---------- functions ----------

export interface ParameterInfo {
  name: string;
  type: string | undefined;
  mandatory: boolean;
  isSwitch: boolean;
}

export interface FunctionInfo {
  name: string;
  node: Node;
  parameters: ParameterInfo[];
  cmdletBinding: boolean;
  supportsShouldProcess: boolean;
  help: string | undefined;
}

function attributeName(attribute: Node): string | undefined {
  return attribute.children.find((child) => child.type === 'attribute_name')?.text;
}

function attributeArguments(attribute: Node): { name: string; value: string | undefined }[] {
  const list = attribute.children.find((child) => child.type === 'attribute_arguments');
  if (!list) return [];
  return list.children
    .filter((child) => child.type === 'attribute_argument')
    .map((argument) => {
      const name = argument.children.find((child) => child.type === 'simple_name')?.text ?? '';
      const hasValue = argument.children.some((child) => child.type === '=');
      return { name, value: hasValue ? argument.text.slice(argument.text.indexOf('=') + 1).trim() : undefined };
    });
}

function directAttributes(owner: Node): Node[] {
  const list = owner.children.find((child) => child.type === 'attribute_list');
  return list ? list.children.filter((child) => child.type === 'attribute') : [];
}

function parameterInfo(parameter: Node): ParameterInfo {
  const variable = parameter.children.find((child) => child.type === 'variable');
  let type: string | undefined;
  let mandatory = false;
  for (const attribute of directAttributes(parameter)) {
    const literal = attribute.children.find((child) => child.type === 'type_literal');
    if (literal) {
      type = literal.text.replace(/^\[|\]$/g, '');
      continue;
    }
    if (/^parameter$/i.test(attributeName(attribute) ?? '')) {
      for (const argument of attributeArguments(attribute)) {
        if (/^mandatory$/i.test(argument.name) && (argument.value === undefined || /^\$true$/i.test(argument.value)))
          mandatory = true;
      }
    }
  }
  return {
    name: (variable?.text ?? '').replace(/^\$/, ''),
    type,
    mandatory,
    isSwitch: /^(switch|system\.management\.automation\.switchparameter)$/i.test(type ?? ''),
  };
}

function paramBlockInfo(
  block: Node | undefined,
): Pick<FunctionInfo, 'parameters' | 'cmdletBinding' | 'supportsShouldProcess'> {
  if (!block) return { parameters: [], cmdletBinding: false, supportsShouldProcess: false };
  const binding = directAttributes(block).find((attribute) => /^cmdletbinding$/i.test(attributeName(attribute) ?? ''));
  const list = block.children.find((child) => child.type === 'parameter_list');
  return {
    parameters: (list?.children ?? []).filter((child) => child.type === 'script_parameter').map(parameterInfo),
    cmdletBinding: binding !== undefined,
    supportsShouldProcess:
      binding !== undefined &&
      attributeArguments(binding).some(
        (a) => /^supportsshouldprocess$/i.test(a.name) && (a.value === undefined || /^\$true$/i.test(a.value)),
      ),
  };
}

/** Every function defined in the file: name, declared parameters, [CmdletBinding()], help. */
export function functionInfos(root: Node): FunctionInfo[] {
  return root.descendantsOfType('function_statement').map((node) => {
    const body = node.children.find((child) => child.type === 'script_block');
    const block = body?.children.find((child) => child.type === 'param_block');
    const help = node.children.find((child) => child.type === 'comment' && child.text.startsWith('<#'))?.text;
    return {
      name: node.children.find((child) => child.type === 'function_name')?.text ?? '',
      node,
      ...paramBlockInfo(block),
      help,
    };
  });
}

/** Approved PowerShell verbs (Get-Verb), as used for function names. */
export const APPROVED_VERBS = new Set(
  (
    'Add Clear Close Copy Enter Exit Find Format Get Hide Join Lock Move New Open Optimize Pop Push Redo Remove Rename ' +
    'Reset Resize Search Select Set Show Skip Split Step Switch Undo Unlock Watch Connect Disconnect Read Receive Send ' +
    'Write Backup Checkpoint Compare Compress Convert ConvertFrom ConvertTo Dismount Edit Expand Export Group Import ' +
    'Initialize Limit Merge Mount Out Publish Restore Save Sync Unpublish Update Debug Measure Ping Repair Resolve Test ' +
    'Trace Approve Assert Build Complete Confirm Deny Deploy Disable Enable Install Invoke Register Request Restart ' +
    'Resume Start Stop Submit Suspend Uninstall Unregister Wait Block Grant Protect Revoke Unblock Unprotect Use'
  ).split(' '),
);

/** Functions are Verb-Noun with an approved verb, have comment-based help and [CmdletBinding()]. */
export function functionStyle(tree: Tree): Violation[] {
  const found: Violation[] = [];
  for (const fn of functionInfos(tree.rootNode)) {
    const verb = /^([A-Za-z]+)-[A-Za-z][A-Za-z0-9]*$/.exec(fn.name)?.[1];
    if (!verb || !APPROVED_VERBS.has(verb)) found.push(violation(`unapproved-verb:${fn.name}`, fn.node));
    if (!fn.help || !/\.SYNOPSIS/.test(fn.help)) found.push(violation(`function-without-help:${fn.name}`, fn.node));
    if (!fn.cmdletBinding) found.push(violation(`function-without-cmdletbinding:${fn.name}`, fn.node));
  }
  return found;
}

// ---------- calls: commands, parameters, mandatory arguments ----------

export interface CommandCatalog {
  /** Built-in commands with their parameters ('any' skips the parameter check). */
  cmdlets: Record<string, readonly string[] | 'any'>;
  /** Functions callable from the file (its own and the module's exported ones). */
  functions: FunctionInfo[];
}

/**
 * Every command is a known cmdlet or a function in scope; every named parameter exists on it;
 * calls to our functions are all-named (no positional arguments) and pass every mandatory
 * parameter (PowerShell would prompt for it, which fails under -NonInteractive).
 */
export function commandUsage(tree: Tree, catalog: CommandCatalog): Violation[] {
  const found: Violation[] = [];
  const cmdlets = new Map(Object.entries(catalog.cmdlets).map(([name, params]) => [lower(name), params]));
  const functions = new Map(catalog.functions.map((fn) => [lower(fn.name), fn]));
  const common = COMMON_PARAMETERS.map(lower);
  for (const call of commandCalls(tree.rootNode)) {
    const name = lower(call.name);
    const fn = functions.get(name);
    if (fn) {
      found.push(...functionCallViolations(call, fn, common));
      continue;
    }
    const known = cmdlets.get(name);
    if (known === undefined) {
      found.push(violation(`unknown-command:${call.name}`, call.node));
      continue;
    }
    if (known === 'any') continue;
    const allowed = new Set([...known.map(lower), ...common]);
    for (const parameter of commandParameters(call)) {
      if (!allowed.has(parameter)) found.push(violation(`unknown-parameter:${call.name} -${parameter}`, call.node));
    }
  }
  return found;
}

function functionCallViolations(call: CommandCall, fn: FunctionInfo, common: string[]): Violation[] {
  const found: Violation[] = [];
  const declared = new Map(fn.parameters.map((p) => [lower(p.name), p]));
  const extra = new Set([
    ...(fn.cmdletBinding ? common : []),
    ...(fn.supportsShouldProcess ? SHOULD_PROCESS_PARAMETERS.map(lower) : []),
  ]);
  const given = new Set<string>();
  const splatted = call.elements.some((e) => e.kind === 'splat');
  for (let i = 0; i < call.elements.length; i++) {
    const element = call.elements[i]!;
    if (element.kind === 'parameter') {
      const name = lower(element.name ?? '');
      const parameter = declared.get(name);
      if (!parameter && !extra.has(name))
        found.push(violation(`unknown-parameter:${fn.name} -${element.name}`, call.node));
      given.add(name);
      const takesValue = parameter ? !parameter.isSwitch : !['verbose', 'debug', 'whatif', 'confirm'].includes(name);
      if ((takesValue || element.colonValue) && call.elements[i + 1]?.kind === 'argument') i++;
    } else if (element.kind === 'argument' && !splatted) {
      found.push(violation(`positional-argument:${fn.name}`, element.node));
    }
  }
  if (!splatted) {
    for (const parameter of fn.parameters) {
      if (parameter.mandatory && !given.has(lower(parameter.name))) {
        found.push(violation(`missing-mandatory:${fn.name} -${parameter.name}`, call.node));
      }
    }
  }
  return found;
}

// ---------- variables ----------

/** Automatic and preference variables (and Pester's) that need no assignment. */
export const AUTOMATIC_VARIABLES = new Set(
  (
    '_ psitem args input this true false null matches lastexitcode error pid psscriptroot pscommandpath ' +
    'psboundparameters myinvocation pscmdlet home host pshome psversiontable executioncontext erroractionpreference ' +
    'warningpreference verbosepreference debugpreference progresspreference confirmpreference whatifpreference ' +
    'informationpreference psdefaultparametervalues ofs stacktrace sender event eventargs foreach switch ' +
    'nestedpromptlevel pwd shellid psculture psuiculture ? ^ $ testdrive pesterboundparameters'
  ).split(' '),
);

function variableName(node: Node): { name: string; scope: string | undefined } | undefined {
  const match = /^[$@](?:(global|local|private|script|using|env|variable|function):)?([A-Za-z0-9_?^$]+)$/i.exec(
    node.text,
  );
  if (!match) return undefined;
  return { name: lower(match[2] ?? ''), scope: match[1] ? lower(match[1]) : undefined };
}

/** The nodes of one scope: the whole file, or one function's body (nested functions excluded). */
function* scopeNodes(root: Node): Generator<Node> {
  for (const child of root.children) {
    if (child.type === 'function_statement') continue;
    yield child;
    yield* scopeNodes(child);
  }
}

function isAssignmentTarget(variable: Node): boolean {
  for (let node: Node | null = variable.parent; node; node = node.parent) {
    if (node.type === 'left_assignment_expression') {
      // `$a.b = 1` and `$a[0] = 1` read $a; only a plain (optionally cast) variable is assigned.
      return !node.descendantsOfType(['member_access', 'element_access']).length;
    }
    if (['assignment_expression', 'pipeline', 'statement_list', 'command'].includes(node.type)) return false;
  }
  return false;
}

function definitionsIn(scope: Node, includeRoot: boolean): { defined: Set<string>; scriptScoped: Set<string> } {
  const defined = new Set<string>();
  const scriptScoped = new Set<string>();
  const nodes = includeRoot ? [scope, ...scopeNodes(scope)] : [...scopeNodes(scope)];
  for (const node of nodes) {
    if (node.type !== 'variable') continue;
    const parsed = variableName(node);
    if (!parsed) continue;
    const parent = node.parent;
    const isDefinition =
      isAssignmentTarget(node) || parent?.type === 'script_parameter' || parent?.type === 'foreach_statement';
    if (!isDefinition) continue;
    defined.add(parsed.name);
    if (parsed.scope === 'script' || parsed.scope === 'global') scriptScoped.add(parsed.name);
  }
  return { defined, scriptScoped };
}

/**
 * The script-scope variables a file sets (lower case, no `$`): what it assigns at its top level
 * and what its functions assign as `$script:`/`$global:`. The files dot-sourced into one module
 * share that scope.
 */
export function scriptScopeVariables(tree: Tree): Set<string> {
  const top = definitionsIn(tree.rootNode, false);
  const names = new Set([...top.defined, ...top.scriptScoped]);
  for (const fn of tree.rootNode.descendantsOfType('function_statement')) {
    for (const name of definitionsIn(fn, false).scriptScoped) names.add(name);
  }
  return names;
}

/**
 * Variables read but never set: with Set-StrictMode on they throw, without it they are silently
 * $null (a misspelled variable in a safety check would quietly pass). Functions see only their
 * own variables plus $script: ones set at the top of the file (or, for a file dot-sourced into a
 * module, set by any file of the module: `options.sharedScriptScope`); the top level sees its own.
 */
export function undefinedVariables(tree: Tree, options: { sharedScriptScope?: Iterable<string> } = {}): Violation[] {
  const found: Violation[] = [];
  const top = definitionsIn(tree.rootNode, false);
  const scriptLevel = scriptScopeVariables(tree);
  for (const name of options.sharedScriptScope ?? []) scriptLevel.add(lower(name));
  const check = (scope: Node, defined: Set<string>) => {
    for (const node of scopeNodes(scope)) {
      if (node.type !== 'variable') continue;
      const parsed = variableName(node);
      if (!parsed || parsed.scope === 'env' || parsed.scope === 'using' || AUTOMATIC_VARIABLES.has(parsed.name))
        continue;
      const visible = parsed.scope === 'script' || parsed.scope === 'global' ? scriptLevel : defined;
      if (!visible.has(parsed.name) && !(parsed.scope === undefined && pesterDataVariables(node).has(parsed.name)))
        found.push(violation(`undefined-variable:$${parsed.name}`, node));
    }
  };
  check(tree.rootNode, top.defined);
  for (const fn of tree.rootNode.descendantsOfType('function_statement')) {
    check(fn, definitionsIn(fn, false).defined);
  }
  return found;
}

const PESTER_DATA_BLOCKS = new Set(['describe', 'context', 'it']);

/**
 * Pester 5 data-driven blocks: `It '...' -ForEach @(@{ Path = ...; Expected = ... }) { $Path }`
 * (or -TestCases; Describe and Context too) define each key of the data hashtables as a variable
 * inside the block. The names (lower case) visible at `variable` that way.
 */
function pesterDataVariables(variable: Node): Set<string> {
  const names = new Set<string>();
  for (let node = variable.parent; node; node = node.parent) {
    if (node.type !== 'script_block_expression') continue;
    let command: Node | null = node.parent;
    while (command && command.type !== 'command') command = command.parent;
    if (!command) continue;
    const call = commandCalls(command.parent ?? command).find((c) => c.node.id === command.id);
    if (!call || !PESTER_DATA_BLOCKS.has(lower(call.name))) continue;
    if (
      !call.elements.some(
        (e) => e.kind === 'argument' && e.node.startIndex <= node.startIndex && e.node.endIndex >= node.endIndex,
      )
    )
      continue;
    call.elements.forEach((element, i) => {
      if (element.kind !== 'parameter' || !/^(foreach|testcases)$/i.test(element.name ?? '')) return;
      const data = call.elements[i + 1];
      if (data?.kind !== 'argument') return;
      for (const hash of data.node.descendantsOfType('hash_literal_expression')) {
        let nested = false;
        for (let up = hash.parent; up && up.id !== data.node.id; up = up.parent) {
          if (up.type === 'hash_literal_expression') nested = true;
        }
        if (!nested) for (const key of hashKeys(hash)) names.add(lower(key));
      }
    });
  }
  return names;
}

// ---------- output ----------

export interface JsonOutputCall {
  hasInputObject: boolean;
  depth: number | undefined;
  at: string;
}

/** Every ConvertTo-Json call with its -InputObject and -Depth. */
export function convertToJsonCalls(tree: Tree): JsonOutputCall[] {
  return commandCalls(tree.rootNode)
    .filter((call) => lower(call.name) === 'convertto-json')
    .map((call) => {
      const depthIndex = call.elements.findIndex((e) => e.kind === 'parameter' && /^depth$/i.test(e.name ?? ''));
      const depthText = depthIndex >= 0 ? call.elements[depthIndex + 1]?.node.text : undefined;
      return {
        hasInputObject: commandParameters(call).includes('inputobject'),
        depth: depthText !== undefined && /^\d+$/.test(depthText) ? Number(depthText) : undefined,
        at: where(call.node),
      };
    });
}

/**
 * ConvertTo-Json always with -InputObject (piping unwraps a one-element array) and an explicit
 * -Depth of at least 4 (the default of 2 silently truncates nested objects to type names).
 */
export function jsonOutput(tree: Tree): Violation[] {
  return convertToJsonCalls(tree).flatMap((call) => {
    const found: Violation[] = [];
    if (!call.hasInputObject) found.push({ rule: 'json-without-inputobject', at: call.at });
    if (call.depth === undefined || call.depth < 4 || call.depth > 100) found.push({ rule: 'json-depth', at: call.at });
    return found;
  });
}

// ---------- the script contract ----------

export const REQUIRED_HELP_KEYWORDS = ['.SYNOPSIS', '.DESCRIPTION', '.PARAMETER', '.EXAMPLE', '.OUTPUTS'] as const;

/** The script's comment-based help: the first `<# ... #>` block before the param block. */
export function commentHelp(tree: Tree): string | undefined {
  const first = tree.rootNode.descendantsOfType('comment').find((node) => node.text.startsWith('<#'));
  const param = scriptParamBlock(tree);
  if (!first || (param && first.startIndex > param.startIndex)) return undefined;
  return first.text;
}

/** The top-level param block (the script's, not a function's). */
export function scriptParamBlock(tree: Tree): Node | undefined {
  return tree.rootNode.children.find((child) => child.type === 'param_block');
}

export function scriptParameters(tree: Tree): ParameterInfo[] {
  return paramBlockInfo(scriptParamBlock(tree)).parameters;
}

export function hasCmdletBinding(tree: Tree): boolean {
  return paramBlockInfo(scriptParamBlock(tree)).cmdletBinding;
}

function topLevelStatements(tree: Tree): Node[] {
  const list = tree.rootNode.children.find((child) => child.type === 'statement_list');
  return list ? list.children.filter((child) => child.type !== 'comment' && child.type !== ';') : [];
}

/**
 * What every host script must have (DESIGN.md §5): complete comment-based help (every parameter
 * documented), [CmdletBinding()], typed parameters including `[string]$Request`,
 * $ProgressPreference silenced, Set-StrictMode, and the safety module (its folder) loaded from
 * the script's own folder. The explicit `exit` is checked by mainGuard: it ends the main guard.
 */
export function scriptContract(tree: Tree): Violation[] {
  const found: Violation[] = [];
  const root = tree.rootNode;
  const help = commentHelp(tree);
  for (const keyword of REQUIRED_HELP_KEYWORDS) {
    if (!help?.includes(keyword)) found.push(violation(`missing-help:${keyword}`, root));
  }
  const parameters = scriptParameters(tree);
  for (const parameter of parameters) {
    if (!new RegExp(`^\\.PARAMETER ${parameter.name}\\s*$`, 'm').test(help ?? '')) {
      found.push(violation(`undocumented-parameter:${parameter.name}`, root));
    }
    if (!parameter.type) found.push(violation(`untyped-parameter:${parameter.name}`, root));
  }
  if (!hasCmdletBinding(tree)) found.push(violation('missing-cmdletbinding', root));
  const request = parameters.find((p) => p.name === 'Request');
  if (!request || !/^string$/i.test(request.type ?? '')) found.push(violation('missing-request-parameter', root));

  const statements = topLevelStatements(tree);
  const topText = statements.map((s) => s.text);
  if (!topText.some((text) => /^\$ProgressPreference\s*=\s*'SilentlyContinue'$/.test(text))) {
    found.push(violation('missing-progress-preference', root));
  }
  if (!topText.some((text) => /^Set-StrictMode -Version \d/.test(text)))
    found.push(violation('missing-strict-mode', root));
  if (!topText.some((text) => SAFETY_MODULE_IMPORT.test(text))) found.push(violation('missing-module-import', root));
  return found;
}

/** How a script loads the safety module: by its folder (the manifest), next to the script. */
export const SAFETY_MODULE_IMPORT =
  /^Import-Module -Name \(Join-Path -Path \$PSScriptRoot -ChildPath 'SpawnGuard\.Safety'\)$/;

const MAIN_GUARD_CONDITION = /^\$MyInvocation\.InvocationName\s+-ne\s+'\.'$/i;
const FINAL_EXIT = /^exit\s+(\$\w+|\d+)$/i;
const PREFERENCE_ASSIGNMENT =
  /^\$(ErrorAction|Progress|Warning|Verbose|Debug|Confirm|Information)Preference\s*=\s*'\w+'$/i;

function isExit(node: Node): boolean {
  return node.type === 'flow_control_statement' && node.children[0]?.type === 'exit';
}

/** `if ($MyInvocation.InvocationName -ne '.') { ... }` with no elseif/else: the script's main guard. */
function isMainGuard(node: Node): boolean {
  if (node.type !== 'if_statement') return false;
  if (node.children.some((child) => child.type === 'elseif_clauses' || child.type === 'else_clause')) return false;
  const condition = node.children.find((child) => child.type === 'pipeline');
  return MAIN_GUARD_CONDITION.test(condition?.text.trim() ?? '');
}

function blockStatements(block: Node | undefined): Node[] {
  const list = block?.children.find((child) => child.type === 'statement_list');
  return list ? list.children.filter((child) => child.type !== 'comment' && child.type !== ';') : [];
}

/**
 * The main guard (the scripts' Pester tests dot-source them to call their functions, and a
 * dot-sourced script must run nothing and never exit the test run): the last top-level statement
 * is `if ($MyInvocation.InvocationName -ne '.') { ... }` ending with `exit $code` (or a number);
 * no `exit` anywhere outside it (a function's `exit` would end the caller's session); and outside
 * it only setup runs at the top level (preferences, Set-StrictMode, Import-Module, function
 * definitions), so the logic lives in functions.
 */
export function mainGuard(tree: Tree): Violation[] {
  const found: Violation[] = [];
  const statements = topLevelStatements(tree);
  const guards = statements.filter(isMainGuard);
  const guard = guards[guards.length - 1];
  if (!guard) found.push(violation('missing-main-guard', tree.rootNode));
  else {
    if (guards.length > 1) found.push(violation('several-main-guards', guards[0]!));
    if (statements[statements.length - 1]?.id !== guard.id) found.push(violation('main-guard-not-last', guard));
    const body = blockStatements(guard.children.find((child) => child.type === 'statement_block'));
    const last = body[body.length - 1];
    if (!last || !isExit(last) || !FINAL_EXIT.test(last.text.trim()))
      found.push(violation('missing-final-exit', last ?? guard));
  }
  for (const node of walk(tree.rootNode)) {
    if (!isExit(node)) continue;
    const inGuard =
      guard !== undefined &&
      node.startIndex >= guard.startIndex &&
      node.endIndex <= guard.endIndex &&
      !hasAncestorOfType(node, ['function_statement', 'script_block_expression']);
    if (!inGuard) found.push(violation('exit-outside-main-guard', node));
  }
  for (const statement of statements) {
    if (statement.id === guard?.id || statement.type === 'function_statement' || isExit(statement)) continue;
    const text = statement.text.trim();
    if (PREFERENCE_ASSIGNMENT.test(text) || /^Set-StrictMode -Version \d/.test(text) || SAFETY_MODULE_IMPORT.test(text))
      continue;
    if (isConstantAssignment(statement)) continue;
    found.push(violation('statement-outside-main-guard', statement));
  }
  return found;
}

/** `$script:Table = @(7022, 7007)`: a variable set to literals only (no command, variable or member call). */
function isConstantAssignment(statement: Node): boolean {
  const assignment = statement.descendantsOfType('assignment_expression')[0];
  if (!assignment || assignment.text !== statement.text.trim()) return false;
  const value = assignment.childForFieldName('value');
  if (!value) return false;
  const dynamic = value.descendantsOfType([
    'command',
    'variable',
    'invokation_expression',
    'member_access',
    'element_access',
    'sub_expression',
    'script_block_expression',
    'expandable_string_literal',
    'expandable_here_string_literal',
  ]);
  return dynamic.every((node) => node.type === 'variable' && /^\$(true|false|null)$/i.test(node.text));
}

/** Export-ModuleMember (one call or several: each adds to the list) exports exactly the functions the module defines. */
export function moduleExports(tree: Tree): Violation[] {
  const found: Violation[] = [];
  const defined = new Set(functionInfos(tree.rootNode).map((fn) => fn.name));
  const exportCall = commandCalls(tree.rootNode).find((call) => lower(call.name) === 'export-modulemember');
  if (!exportCall) return [violation('missing-export-modulemember', tree.rootNode)];
  const exported = new Set(exportedFunctionNames(tree));
  for (const name of defined) if (!exported.has(name)) found.push(violation(`not-exported:${name}`, exportCall.node));
  for (const name of exported)
    if (!defined.has(name)) found.push(violation(`exported-but-undefined:${name}`, exportCall.node));
  return found;
}

/** The names listed in every `Export-ModuleMember -Function @(...)` of the file. */
export function exportedFunctionNames(tree: Tree): string[] {
  return commandCalls(tree.rootNode)
    .filter((call) => lower(call.name) === 'export-modulemember')
    .flatMap((call) => stringLiterals(call.node));
}

// ---------- the safety module: manifest, root module, concern files ----------

/** The top-level entries of a module manifest (.psd1: one hashtable literal), by lower-case key. */
export function dataFileEntries(tree: Tree): Map<string, { key: string; value: Node }> | undefined {
  const statements = topLevelStatements(tree);
  const hash = statements.length === 1 ? statements[0]?.descendantsOfType('hash_literal_expression')[0] : undefined;
  if (!hash || hash.text !== statements[0]?.text.trim()) return undefined;
  const entries = new Map<string, { key: string; value: Node }>();
  const body = hash.children.find((child) => child.type === 'hash_literal_body');
  for (const entry of body?.children ?? []) {
    if (entry.type !== 'hash_entry') continue;
    const key = entry.children[0]?.text.replace(/^'|'$/g, '') ?? '';
    const value = entry.children.slice(entry.children.findIndex((child) => child.type === '=') + 1).find(Boolean);
    if (value) entries.set(lower(key), { key, value });
  }
  return entries;
}

const FUNCTION_NAME = /^[A-Za-z]+-[A-Za-z][A-Za-z0-9]*$/;

/** FunctionsToExport of a module manifest: single-quoted function names only (no wildcard, no expression). */
export function manifestFunctionNames(manifest: Tree): string[] | undefined {
  const value = dataFileEntries(manifest)?.get('functionstoexport')?.value;
  const names = value ? literalNameList(value) : undefined;
  return names?.every((name) => FUNCTION_NAME.test(name)) ? names : undefined;
}

export interface ModuleFile {
  name: string;
  tree: Tree;
}

/**
 * A manifest module split into concern files: FunctionsToExport names each function once, every
 * exported function is defined in exactly one module file, every function defined there is
 * exported (or listed in `privateFunctions`, and then not exported), no function is defined in two
 * files (the later dot-source would silently replace the earlier), and no file calls
 * Export-ModuleMember (the manifest is the one export list).
 */
export function moduleManifestExports(
  manifest: ModuleFile,
  files: ModuleFile[],
  privateFunctions: readonly string[] = [],
): Violation[] {
  const found: Violation[] = [];
  const at = (file: string, node: Node) => ({ file, at: `${file} ${where(node)}` });
  const exported = manifestFunctionNames(manifest.tree);
  if (!exported) return [{ rule: 'functions-to-export-not-a-literal-name-list', at: manifest.name }];
  const definedIn = new Map<string, { name: string; places: { file: string; at: string }[] }>();
  for (const file of files) {
    for (const fn of functionInfos(file.tree.rootNode)) {
      const entry = definedIn.get(lower(fn.name)) ?? { name: fn.name, places: [] };
      entry.places.push(at(file.name, fn.node));
      definedIn.set(lower(fn.name), entry);
    }
    for (const call of commandCalls(file.tree.rootNode)) {
      if (lower(call.name) === 'export-modulemember')
        found.push({ rule: 'export-modulemember-in-manifest-module', at: at(file.name, call.node).at });
    }
  }
  const exportedSet = new Set<string>();
  for (const name of exported) {
    if (exportedSet.has(lower(name))) found.push({ rule: `exported-twice:${name}`, at: manifest.name });
    exportedSet.add(lower(name));
    const places = definedIn.get(lower(name))?.places ?? [];
    if (places.length === 0) found.push({ rule: `exported-but-undefined:${name}`, at: manifest.name });
  }
  const privateSet = new Set(privateFunctions.map(lower));
  for (const [key, { name, places }] of definedIn) {
    if (places.length > 1)
      found.push({ rule: `defined-in-several-files:${name}`, at: places.map((p) => p.at).join('; ') });
    if (privateSet.has(key) && exportedSet.has(key))
      found.push({ rule: `private-but-exported:${name}`, at: places[0]!.at });
    if (!privateSet.has(key) && !exportedSet.has(key)) found.push({ rule: `not-exported:${name}`, at: places[0]!.at });
  }
  for (const name of privateFunctions) {
    if (!definedIn.has(lower(name))) found.push({ rule: `private-but-undefined:${name}`, at: manifest.name });
  }
  return found;
}

/**
 * The module root loads exactly the concern files of its folder (`concernFiles`: the .ps1 files
 * there), each once, by the fixed-name dot-sourcing dotSourcedModuleFiles accepts, and does not
 * call Export-ModuleMember (the manifest lists the exports).
 */
export function moduleLoader(root: Tree, concernFiles: readonly string[]): Violation[] {
  const found: Violation[] = [];
  const loaded: string[] = [];
  for (const command of root.rootNode.descendantsOfType('command')) {
    if (!command.children.some((child) => child.type === 'command_invokation_operator')) continue;
    const files = dotSourcedModuleFiles(command);
    if (!files) found.push(violation('not-a-concern-file-load', command));
    else loaded.push(...files);
  }
  const counts = new Map<string, number>();
  for (const file of loaded) counts.set(lower(file), (counts.get(lower(file)) ?? 0) + 1);
  const expected = new Set(concernFiles.map(lower));
  for (const file of concernFiles) {
    if (!counts.has(lower(file))) found.push({ rule: `concern-file-not-loaded:${file}`, at: 'root module' });
  }
  for (const [file, count] of counts) {
    if (!expected.has(file)) found.push({ rule: `loads-missing-file:${file}`, at: 'root module' });
    if (count > 1) found.push({ rule: `loaded-twice:${file}`, at: 'root module' });
  }
  return found;
}

// ---------- the Windows seam ----------

/**
 * Commands that only Windows answers (CIM/WMI, processes, Authenticode, ACLs, scheduled tasks,
 * compiled types) and the file-system/registry provider cmdlets (a Windows path names a drive
 * the test machine lacks, so under pwsh they fail where the seam can be mocked). Join-Path is
 * checked apart: only `Join-Path -Path $PSScriptRoot` (a path of this machine) is allowed.
 */
export const WINDOWS_ONLY_COMMANDS = [
  'Get-CimInstance',
  'Get-WmiObject',
  'Invoke-CimMethod',
  'Invoke-WmiMethod',
  'Get-CimAssociatedInstance',
  'New-CimInstance',
  'Remove-CimInstance',
  'Set-WmiInstance',
  'Remove-WmiObject',
  'Register-CimIndicationEvent',
  'Register-WmiEvent',
  'Stop-Process',
  'Get-Process',
  'Get-AuthenticodeSignature',
  'Get-Acl',
  'Set-Acl',
  'Get-ScheduledTask',
  'Get-BitsTransfer',
  'Add-Type',
  'Test-Path',
  'Get-ChildItem',
  'Get-Item',
  'Remove-Item',
  'Copy-Item',
  'Move-Item',
  'New-Item',
  'Rename-Item',
  'Get-ItemProperty',
  'Set-ItemProperty',
  'New-ItemProperty',
  'Remove-ItemProperty',
] as const;

/** Members that reach Windows-only state: the current process, file-system ACLs. */
const WINDOWS_ONLY_MEMBERS = new Set(['getcurrentprocess', 'setaccesscontrol', 'getaccesscontrol']);

/** Types whose use is a Windows-only call: file-system statics, ACL types, the registry, the process table. */
function windowsOnlyType(typeName: string, isStaticCall: boolean): string | undefined {
  const full = lower(typeName.replace(/\s+/g, ''));
  const name = full.replace(/^system\./, '');
  if (name === 'io.file') return '[System.IO.File]';
  if (name === 'io.directory') return '[System.IO.Directory]';
  if (name.startsWith('security.accesscontrol.')) return `[System.${typeName.replace(/^System\./i, '')}]`;
  if (full.startsWith('microsoft.win32.registry')) return `[${typeName}]`;
  if (name === 'diagnostics.process' && isStaticCall) return '[System.Diagnostics.Process]::';
  return undefined;
}

/** Provider paths that only Windows has: the registry provider and its drives. */
const WINDOWS_ONLY_PATH = /registry::|\bhk(lm|cu|cr|u|cc):/i;

/**
 * Windows-only calls, for every file but the Windows seam (SpawnGuard.Safety/Platform.ps1): the
 * commands above, `-ComObject`, `Registry::` (and the HKLM:/HKCU: drives), [System.IO.File] and
 * [System.IO.Directory], ACL and registry types, [System.Diagnostics.Process]:: statics,
 * .GetCurrentProcess(), .GetAccessControl(), .SetAccessControl(), and Join-Path on anything but
 * $PSScriptRoot (Join-Path resolves the drive of a Windows path, which this machine lacks; the
 * module has the pure Join-SpawnGuardPath).
 */
export function windowsOnlyCalls(tree: Tree): Violation[] {
  const found: Violation[] = [];
  const commands = new Set<string>(WINDOWS_ONLY_COMMANDS.map(lower));
  for (const call of commandCalls(tree.rootNode)) {
    const name = lower(call.name.replace(/^.*\\/, ''));
    if (commands.has(name)) found.push(violation(`windows-only-command:${call.name}`, call.node));
    const parameters = commandParameters(call);
    if (parameters.includes('comobject')) found.push(violation('windows-only:-ComObject', call.node));
    if (name === 'new-object') {
      const typeIndex = call.elements.findIndex((e) => e.kind === 'parameter' && lower(e.name ?? '') === 'typename');
      const typeArgument =
        typeIndex >= 0 ? call.elements[typeIndex + 1] : call.elements.find((e) => e.kind === 'argument');
      const typeName = typeArgument?.node.text.replace(/^['"]|['"]$/g, '');
      const windowsType = typeName ? windowsOnlyType(typeName, false) : undefined;
      if (windowsType) found.push(violation(`windows-only-type:${windowsType}`, call.node));
    }
    if (name === 'join-path') {
      const pathIndex = call.elements.findIndex((e) => e.kind === 'parameter' && lower(e.name ?? '') === 'path');
      const path =
        pathIndex >= 0
          ? call.elements[pathIndex + 1]
          : call.elements.find((e) => e.kind === 'argument' || e.kind === 'splat');
      if (path?.kind !== 'argument' || !/^\$PSScriptRoot$/i.test(path.node.text))
        found.push(violation('join-path-not-on-psscriptroot', call.node));
    }
  }
  for (const node of walk(tree.rootNode)) {
    if (node.type === 'comment') continue;
    if (node.type === 'type_literal') {
      const parent = node.parent;
      const isStaticCall = parent?.children.some((child) => child.type === '::') ?? false;
      const windowsType = windowsOnlyType(node.text.replace(/^\[|\]$/g, ''), isStaticCall);
      if (windowsType) found.push(violation(`windows-only-type:${windowsType}`, node));
    } else if (node.type === 'member_name' && WINDOWS_ONLY_MEMBERS.has(lower(node.text))) {
      found.push(violation(`windows-only-member:${node.text}`, node.parent ?? node));
    } else if (
      (node.type === 'string_literal' || node.type === 'generic_token') &&
      !hasAncestorOfType(node, ['string_literal']) &&
      WINDOWS_ONLY_PATH.test(node.text)
    ) {
      found.push(violation('windows-only-provider-path', node));
    }
  }
  return found;
}

// ---------- literals ----------

/** Single-quoted string literals (quotes stripped) under a node. */
export function stringLiterals(node: Node): string[] {
  return node
    .descendantsOfType('verbatim_string_characters')
    .map((literal) => literal.text.slice(1, -1).replace(/''/g, "'"));
}

/** The right-hand side of `$scope:Name = ...` assignments, by variable name (scope stripped, lower case). */
export function assignments(tree: Tree): Map<string, Node> {
  const found = new Map<string, Node>();
  for (const node of tree.rootNode.descendantsOfType('assignment_expression')) {
    const left = node.children.find((child) => child.type === 'left_assignment_expression');
    const value = node.childForFieldName('value');
    if (!left || !value) continue;
    const name = left.text.replace(/^\$(script:|global:)?/i, '').toLowerCase();
    if (!found.has(name)) found.set(name, value);
  }
  return found;
}

const EXPRESSION_WRAPPERS = new Set([
  'unary_expression',
  'array_literal_expression',
  'range_expression',
  'format_expression',
  'multiplicative_expression',
  'additive_expression',
  'comparison_expression',
  'bitwise_expression',
  'logical_expression',
  'expression_with_unary_operator',
]);

/** The cast written in front of a hashtable literal (`[ordered]@{...}` → 'ordered'), if any. */
export function hashCast(hash: Node): string | undefined {
  for (let node = hash.parent; node; node = node.parent) {
    if (node.type === 'cast_expression') return lower(node.children[0]?.text.replace(/^\[|\]$/g, '') ?? '');
    if (!EXPRESSION_WRAPPERS.has(node.type)) return undefined;
  }
  return undefined;
}

/** Hashtable literals cast to `type` (e.g. 'ordered') under a node, with their keys in order. */
export function castHashLiterals(node: Node, type: string): { keys: string[]; node: Node }[] {
  return node
    .descendantsOfType('hash_literal_expression')
    .filter((hash) => hashCast(hash) === lower(type))
    .map((hash) => ({ keys: hashKeys(hash), node: hash }));
}

/** The keys of a hashtable literal, in order (nested literals excluded). */
export function hashKeys(hash: Node): string[] {
  const body = hash.children.find((child) => child.type === 'hash_literal_body');
  return (body?.children ?? [])
    .filter((entry) => entry.type === 'hash_entry')
    .map((entry) => entry.children[0]?.text.replace(/^'|'$/g, '') ?? '');
}
