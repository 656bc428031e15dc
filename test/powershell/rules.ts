/**
 * Static rules over the PowerShell parse tree. No PowerShell runs here (DESIGN.md §5), so these
 * rules stand in for what a run would catch: syntax the real grammar rejects, constructs Windows
 * PowerShell 3.0 lacks, aliases, strings run as code, calls to commands or parameters that do not
 * exist (typos, newer cmdlets), missing mandatory arguments, variables read but never set (with
 * Set-StrictMode they would throw at run time), and the script contract (help, [CmdletBinding()],
 * typed parameters, -Request, one ConvertTo-Json document, explicit exit code).
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
export function dynamicExecution(tree: Tree, options: { allowCallOperator?: boolean } = {}): Violation[] {
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
      if (command.children.some((child) => child.type === 'command_invokation_operator')) {
        found.push(violation('call-operator', command));
      }
    }
  }
  return found;
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
 * Variables read but never set: with Set-StrictMode on they throw, without it they are silently
 * $null (a misspelled variable in a safety check would quietly pass). Functions see only their
 * own variables plus $script: ones set at the top of the file; the top level sees its own.
 */
export function undefinedVariables(tree: Tree): Violation[] {
  const found: Violation[] = [];
  const top = definitionsIn(tree.rootNode, false);
  const scriptLevel = new Set([...top.defined, ...top.scriptScoped]);
  for (const fn of tree.rootNode.descendantsOfType('function_statement')) {
    for (const name of definitionsIn(fn, false).scriptScoped) scriptLevel.add(name);
  }
  const check = (scope: Node, defined: Set<string>) => {
    for (const node of scopeNodes(scope)) {
      if (node.type !== 'variable') continue;
      const parsed = variableName(node);
      if (!parsed || parsed.scope === 'env' || parsed.scope === 'using' || AUTOMATIC_VARIABLES.has(parsed.name))
        continue;
      const visible = parsed.scope === 'script' || parsed.scope === 'global' ? scriptLevel : defined;
      if (!visible.has(parsed.name)) found.push(violation(`undefined-variable:$${parsed.name}`, node));
    }
  };
  check(tree.rootNode, top.defined);
  for (const fn of tree.rootNode.descendantsOfType('function_statement')) {
    check(fn, definitionsIn(fn, false).defined);
  }
  return found;
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
 * $ProgressPreference silenced, Set-StrictMode, the safety module loaded from the script's own
 * folder, and an explicit `exit` as the last statement.
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
  if (
    !topText.some((text) =>
      /^Import-Module -Name \(Join-Path -Path \$PSScriptRoot -ChildPath '[\w.]+\.psm1'\)/.test(text),
    )
  ) {
    found.push(violation('missing-module-import', root));
  }
  const last = statements[statements.length - 1];
  if (!last || !/^exit \$\w+$|^exit \d+$/.test(last.text)) found.push(violation('missing-final-exit', last ?? root));
  return found;
}

/** Export-ModuleMember lists exactly the functions the module defines. */
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

/** The names listed in `Export-ModuleMember -Function @(...)`. */
export function exportedFunctionNames(tree: Tree): string[] {
  const exportCall = commandCalls(tree.rootNode).find((call) => lower(call.name) === 'export-modulemember');
  if (!exportCall) return [];
  return stringLiterals(exportCall.node);
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
