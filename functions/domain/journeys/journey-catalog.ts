import type { EmailTemplate, JourneyConfig } from './journey-config';

/**
 * The triggered journeys as the configuration in effect runs them, for people who read rather
 * than deploy them (the console's Journeys page, `GET /v1/journeys`): each journey's trigger, its
 * steps with their waits and templates, what ends it, and the guards every send shares. Pure:
 * what is described is exactly what journeySend and the journey trigger read.
 */
export interface JourneyStepView {
  /** The step's name in the journey state machine and its report line (`email1`, `email2`, `promotion`). */
  readonly step: string;
  readonly channel: 'email';
  /** Seconds waited before the step, from `after`. */
  readonly waitSeconds: number;
  /** What the wait counts from. */
  readonly after: string;
  /** Whether the send may wait further for the person's best hour (`sendHour`). */
  readonly waitsForSendHour: boolean;
  readonly template: EmailTemplate;
  /** The incentive its template may show as `{{incentive}}`. */
  readonly incentive?: string;
}

export interface JourneyView {
  /** The journey report's key for it (`GET /v1/reports/journeys`). */
  readonly key: 'cart-abandonment' | 'product-view';
  readonly name: string;
  readonly trigger: string;
  readonly steps: readonly JourneyStepView[];
  /** What stops a waiting run before its next send. */
  readonly endsWhen: string;
  /** At most one run per product and person within this many days (product view). */
  readonly capDays?: number;
}

export interface JourneyCatalog {
  /** `configured` when `DMP_JOURNEY_CONFIG` overrides the defaults. */
  readonly source: 'defaults' | 'configured';
  readonly journeys: readonly JourneyView[];
  /** What every marketing send shares, segment journeys (email and SMS) included. */
  readonly guards: {
    readonly from: string;
    readonly holdoutShare: number;
    readonly frequencyCap: JourneyConfig['frequencyCap'];
    readonly quietHours: JourneyConfig['quietHours'];
    readonly defaultTimeZone: string;
    readonly sendHour: JourneyConfig['sendHour'];
    readonly sms: JourneyConfig['sms'];
  };
}

export function journeyCatalog(config: JourneyConfig, source: JourneyCatalog['source']): JourneyCatalog {
  const waitsForSendHour = (step: string): boolean => config.sendHour.steps.includes(step);
  const { cartAbandonment: cart, productView } = config;
  return {
    source,
    journeys: [
      {
        key: 'cart-abandonment',
        name: 'Cart abandonment',
        trigger: 'Product Added or Checkout Started, with no Order Completed since',
        steps: [
          {
            step: 'email1',
            channel: 'email',
            waitSeconds: cart.firstDelaySeconds,
            after: "the cart's last change (a change restarts the wait)",
            waitsForSendHour: waitsForSendHour('email1'),
            template: cart.firstEmail,
          },
          {
            step: 'email2',
            channel: 'email',
            waitSeconds: cart.secondDelaySeconds,
            after: 'email 1',
            waitsForSendHour: waitsForSendHour('email2'),
            template: cart.secondEmail,
            incentive: cart.incentive,
          },
        ],
        endsWhen: 'Order Completed (the run is stopped at once), or the person can no longer be emailed',
      },
      {
        key: 'product-view',
        name: 'Product-view promotion',
        trigger: 'Product Viewed',
        steps: [
          {
            step: 'promotion',
            channel: 'email',
            waitSeconds: 0,
            after: 'the view',
            waitsForSendHour: waitsForSendHour('promotion'),
            template: productView.promotion,
          },
        ],
        endsWhen: 'the person can no longer be emailed',
        capDays: productView.capDays,
      },
    ],
    guards: {
      from: config.from,
      holdoutShare: config.holdoutShare,
      frequencyCap: config.frequencyCap,
      quietHours: config.quietHours,
      defaultTimeZone: config.defaultTimeZone,
      sendHour: config.sendHour,
      sms: config.sms,
    },
  };
}
