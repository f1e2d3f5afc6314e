#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { definePlatform } from '../lib/stacks/platform';

const app = new App();
definePlatform(app);
app.synth();
