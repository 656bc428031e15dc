/**
 * The failure converter of an encrypted deployment (`failureConverterPath` of the data converter and
 * of the workflow bundle): a failure's message and stack trace go into history as an encoded
 * payload, which the payload codec encrypts like any other. Without it they are stored in the
 * clear, and a failed action's message can quote a path or a command line from the alert.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
