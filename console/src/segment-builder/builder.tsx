import { useId, useState } from 'preact/hooks';
import {
  type BuilderNode,
  COMPUTED_TRAITS,
  type EventNode,
  fieldForOperator,
  IDENTIFIER_TYPES,
  type IdSource,
  type NodeKind,
  newNode,
  TRAIT_OPERATORS,
  type TraitOperator,
  updateNode,
  type ValueField,
  type ValueKind,
  WHERE_OPERATORS,
  type WhereOperator,
} from './model';

const KIND_LABELS: Readonly<Record<NodeKind, string>> = {
  group: 'Group (all / any of)',
  trait: 'Trait',
  computed: 'Computed trait',
  event: 'Behaviour (events)',
  score: 'Score',
  consent: 'Consent',
  has: 'Has identifier',
  json: 'JSON condition',
};

const OPERATOR_LABELS: Readonly<Record<TraitOperator, string>> = {
  eq: 'is',
  neq: 'is not',
  in: 'is one of',
  contains: 'contains',
  exists: 'exists',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  before: 'is before',
  after: 'is after',
  within: 'is within the last',
};

interface Props {
  readonly root: BuilderNode;
  readonly ids: IdSource;
  readonly onChange: (root: BuilderNode) => void;
}

/** The visual editor of a definition: every node a fieldset whose fields edit the model (./model.ts). */
export function SegmentBuilder({ root, ids, onChange }: Props) {
  const change = (id: string, update: (node: BuilderNode) => BuilderNode | null): void => {
    const next = updateNode(root, id, update);
    onChange(next ?? newNode('group', ids));
  };
  return (
    <div class="builder">
      <NodeEditor node={root} ids={ids} change={change} depth={0} />
    </div>
  );
}

type Change = (id: string, update: (node: BuilderNode) => BuilderNode | null) => void;

function ValueInput({ field, label, onChange }: { readonly field: ValueField; readonly label: string; readonly onChange: (field: ValueField) => void }) {
  const id = useId();
  return (
    <>
      <label class="field" for={id}>
        {label}
        {field.kind === 'boolean' && !field.list ? (
          <select id={id} value={field.text} onChange={(event) => onChange({ ...field, text: event.currentTarget.value })}>
            <option value="true">yes</option>
            <option value="false">no</option>
          </select>
        ) : (
          <input
            id={id}
            value={field.text}
            onInput={(event) => onChange({ ...field, text: event.currentTarget.value })}
            placeholder={field.list ? 'a, b, c' : ''}
          />
        )}
      </label>
      <label class="field">
        {label} type
        <select
          value={field.kind}
          onChange={(event) => {
            const kind = event.currentTarget.value as ValueKind;
            onChange({ ...field, kind, text: kind === 'boolean' && !field.list ? 'true' : field.text });
          }}
        >
          <option value="text">text</option>
          <option value="number">number</option>
          <option value="boolean">yes/no</option>
        </select>
      </label>
    </>
  );
}

/** An operator and the value it compares with (a trait's, a computed trait's, a score's): a new operator reshapes the value. */
function Comparison(props: {
  readonly op: TraitOperator;
  readonly value: ValueField | null;
  readonly onChange: (change: { op?: TraitOperator; value: ValueField | null }) => void;
}) {
  const { op, value, onChange } = props;
  return (
    <>
      <label class="field">
        Operator
        <select
          value={op}
          onChange={(event) => {
            const next = event.currentTarget.value as TraitOperator;
            onChange({ op: next, value: fieldForOperator(next, value) });
          }}
        >
          {TRAIT_OPERATORS.map((choice) => (
            <option key={choice} value={choice}>
              {OPERATOR_LABELS[choice]}
            </option>
          ))}
        </select>
      </label>
      {value && <ValueInput field={value} label="Value" onChange={(field) => onChange({ value: field })} />}
    </>
  );
}

function NodeEditor({ node, ids, change, depth }: { readonly node: BuilderNode; readonly ids: IdSource; readonly change: Change; readonly depth: number }) {
  const set = (patch: Partial<BuilderNode>): void => change(node.id, (current) => ({ ...current, ...patch }) as BuilderNode);
  const legend = `${node.negated ? 'Not: ' : ''}${KIND_LABELS[node.kind]}`;
  const nameId = useId();
  const [kindToAdd, setKindToAdd] = useState<NodeKind>('trait');
  return (
    <fieldset class={`node node-${node.kind}`} data-node-kind={node.kind}>
      <legend>{legend}</legend>
      <div class="node-tools">
        <label class="check">
          <input type="checkbox" checked={node.negated} onChange={(event) => set({ negated: event.currentTarget.checked })} /> not
        </label>
        {depth > 0 && (
          <button type="button" class="link" onClick={() => change(node.id, () => null)} aria-label={`Remove this ${KIND_LABELS[node.kind].toLowerCase()}`}>
            Remove
          </button>
        )}
      </div>
      {node.kind === 'group' && (
        <>
          <label class="field">
            Match
            <select value={node.combinator} onChange={(event) => set({ combinator: event.currentTarget.value as 'and' | 'or' })}>
              <option value="and">all of these (and)</option>
              <option value="or">any of these (or)</option>
            </select>
          </label>
          <div class="children">
            {node.children.map((child) => (
              <NodeEditor key={child.id} node={child} ids={ids} change={change} depth={depth + 1} />
            ))}
          </div>
          <div class="row">
            <label class="field">
              New condition
              <select value={kindToAdd} onChange={(event) => setKindToAdd(event.currentTarget.value as NodeKind)}>
                {(Object.keys(KIND_LABELS) as NodeKind[]).map((kind) => (
                  <option key={kind} value={kind}>
                    {KIND_LABELS[kind]}
                  </option>
                ))}
              </select>
            </label>
            {/* A button, not the select's change: with the keyboard, arrowing through the options must not add any. */}
            <button
              type="button"
              class="add-condition"
              onClick={() =>
                change(node.id, (current) => (current.kind === 'group' ? { ...current, children: [...current.children, newNode(kindToAdd, ids)] } : current))
              }
            >
              Add to this group
            </button>
          </div>
        </>
      )}
      {(node.kind === 'trait' || node.kind === 'computed') && (
        <div class="row">
          <label class="field" for={nameId}>
            {node.kind === 'trait' ? 'Trait name' : 'Computed trait'}
            {node.kind === 'trait' ? (
              <input id={nameId} value={node.name} onInput={(event) => set({ name: event.currentTarget.value })} />
            ) : (
              <select id={nameId} value={node.name} onChange={(event) => set({ name: event.currentTarget.value })}>
                {[...new Set([node.name, ...COMPUTED_TRAITS])].map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
            )}
          </label>
          <Comparison op={node.op} value={node.value} onChange={set} />
        </div>
      )}
      {node.kind === 'event' && <EventFields node={node} ids={ids} set={set} />}
      {node.kind === 'score' && (
        <div class="row">
          <label class="field">
            Score
            <input value={node.score} onInput={(event) => set({ score: event.currentTarget.value })} />
          </label>
          <label class="field">
            Compare
            <select
              value={node.mode}
              onChange={(event) => set({ mode: event.currentTarget.value as 'band' | 'op', value: node.value ?? { kind: 'number', text: '0.5', list: false } })}
            >
              <option value="band">band</option>
              <option value="op">value</option>
            </select>
          </label>
          {node.mode === 'band' ? (
            <label class="field">
              Band(s)
              <input value={node.bands} onInput={(event) => set({ bands: event.currentTarget.value })} placeholder="high, medium" />
            </label>
          ) : (
            <Comparison op={node.op} value={node.value} onChange={set} />
          )}
        </div>
      )}
      {node.kind === 'consent' && (
        <div class="row">
          <label class="field">
            Consent
            <input value={node.consent} onInput={(event) => set({ consent: event.currentTarget.value })} />
          </label>
          <label class="field">
            Granted
            <select
              value={node.granted === null ? '' : String(node.granted)}
              onChange={(event) => set({ granted: event.currentTarget.value === '' ? null : event.currentTarget.value === 'true' })}
            >
              <option value="">granted (default)</option>
              <option value="true">granted (written)</option>
              <option value="false">not granted</option>
            </select>
          </label>
        </div>
      )}
      {node.kind === 'has' && (
        <label class="field">
          Identifier type
          <input list="identifier-types" value={node.has} onInput={(event) => set({ has: event.currentTarget.value })} />
          <datalist id="identifier-types">
            {IDENTIFIER_TYPES.map((type) => (
              <option key={type} value={type} />
            ))}
          </datalist>
        </label>
      )}
      {node.kind === 'json' && (
        <label class="field">
          Condition (JSON)
          <textarea rows={4} spellcheck={false} value={node.json} onInput={(event) => set({ json: event.currentTarget.value })} />
        </label>
      )}
    </fieldset>
  );
}

function EventFields({ node, ids, set }: { readonly node: EventNode; readonly ids: IdSource; readonly set: (patch: Partial<EventNode>) => void }) {
  const count = node.count ?? { gte: '', lte: '', eq: '' };
  return (
    <>
      <div class="row">
        <label class="field">
          Event name
          <input value={node.event} onInput={(event) => set({ event: event.currentTarget.value })} placeholder="Product Added" />
        </label>
        <label class="field">
          Within (ISO duration)
          <input value={node.within} onInput={(event) => set({ within: event.currentTarget.value })} placeholder="P30D" />
        </label>
        <label class="field">
          Only after the latest
          <input value={node.after} onInput={(event) => set({ after: event.currentTarget.value })} placeholder="event name" />
        </label>
      </div>
      <div class="row">
        {(['gte', 'lte', 'eq'] as const).map((bound) => (
          <label class="field" key={bound}>
            Count {bound === 'gte' ? 'at least' : bound === 'lte' ? 'at most' : 'exactly'}
            <input
              inputMode="numeric"
              value={count[bound]}
              onInput={(event) => {
                const next = { ...count, [bound]: event.currentTarget.value };
                set({ count: next.gte === '' && next.lte === '' && next.eq === '' ? null : next });
              }}
            />
          </label>
        ))}
      </div>
      {node.where.map((row, index) => (
        <div class="row" key={row.id}>
          <label class="field">
            Property {index + 1}
            <input
              value={row.path}
              onInput={(event) => set({ where: node.where.map((each) => (each.id === row.id ? { ...each, path: event.currentTarget.value } : each)) })}
            />
          </label>
          <label class="field">
            Property {index + 1} operator
            <select
              value={row.op}
              onChange={(event) => {
                const op = event.currentTarget.value as WhereOperator;
                set({
                  where: node.where.map((each) =>
                    each.id === row.id ? { ...each, op, value: fieldForOperator(op, each.value) ?? { kind: 'boolean', text: 'true', list: false } } : each,
                  ),
                });
              }}
            >
              {WHERE_OPERATORS.map((op) => (
                <option key={op} value={op}>
                  {OPERATOR_LABELS[op]}
                </option>
              ))}
            </select>
          </label>
          <ValueInput
            field={row.value}
            label={`Property ${index + 1} value`}
            onChange={(value) => set({ where: node.where.map((each) => (each.id === row.id ? { ...each, value } : each)) })}
          />
          <button type="button" class="link" onClick={() => set({ where: node.where.filter((each) => each.id !== row.id) })}>
            Remove property {index + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        onClick={() => set({ where: [...node.where, { id: ids.next(), path: '', op: 'eq', explicit: false, value: { kind: 'text', text: '', list: false } }] })}
      >
        Add a property filter
      </button>
    </>
  );
}
