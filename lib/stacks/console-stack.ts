import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import { ConsoleHosting } from '../constructs/console-hosting';

export interface ConsoleStackProps extends StackProps {
  /** The platform's HTTP API, which the console calls through its own distribution. */
  readonly httpApi: IHttpApi;
}

/** The marketer console (console/) on AWS: a private bucket behind a CloudFront distribution that also fronts the API. */
export class ConsoleStack extends Stack {
  public readonly hosting: ConsoleHosting;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, props);
    this.hosting = new ConsoleHosting(this, 'Console', { httpApi: props.httpApi });
    new CfnOutput(this, 'ConsoleUrl', { description: 'The marketer console: sign in with an admin token', value: this.hosting.url });
  }
}
