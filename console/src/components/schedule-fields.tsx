import type { ComponentChildren } from 'preact';
import { everyLabel, type ScheduleForm, type ScheduleKind, type ScheduleUnit } from '../forms/schedule';
import { Field, InputField } from './form-field';

/**
 * The scheduled rebuild of a segment or refresh of a lookalike: every N minutes, hours or days, or
 * none (forms/schedule.ts). One fieldset for both editors, so the rule and its words stay alike;
 * `id` prefixes the controls' ids (`<id>-every`, `<id>-unit`), and `error` goes next to "every".
 */
export function ScheduleFields(props: {
  readonly id: string;
  readonly kind: ScheduleKind;
  readonly help: ComponentChildren;
  readonly schedule: ScheduleForm;
  readonly error: string | undefined;
  readonly onChange: (schedule: ScheduleForm) => void;
}) {
  const { schedule } = props;
  return (
    <fieldset class="choices schedule">
      <legend>Scheduled {props.kind}</legend>
      <p class="help">{props.help}</p>
      <div class="row">
        <InputField
          id={`${props.id}-every`}
          label={everyLabel(props.kind)}
          type="number"
          error={props.error}
          value={schedule.every}
          onInput={(every) => props.onChange({ ...schedule, every })}
        />
        <Field id={`${props.id}-unit`} label="Unit">
          {(control) => (
            <select {...control} value={schedule.unit} onChange={(event) => props.onChange({ ...schedule, unit: event.currentTarget.value as ScheduleUnit })}>
              <option value="minutes">minutes</option>
              <option value="hours">hours</option>
              <option value="days">days</option>
            </select>
          )}
        </Field>
      </div>
    </fieldset>
  );
}
