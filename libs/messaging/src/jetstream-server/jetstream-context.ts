import type { JsMsg } from '@nats-io/jetstream';
import { BaseRpcContext } from '@nestjs/microservices';
import type { DomainEvent } from '@reelay/contracts';

type JetStreamContextArgs = [msg: JsMsg, consumer: string, event: DomainEvent];

/** `@Ctx()` in a JetStream handler: the raw message, the consumer and the typed domain event. */
export class JetStreamContext extends BaseRpcContext<JetStreamContextArgs> {
  getMessage(): JsMsg {
    return this.args[0];
  }
  getConsumer(): string {
    return this.args[1];
  }
  getEvent(): DomainEvent {
    return this.args[2];
  }
  getSubject(): string {
    return this.args[0].subject;
  }
  getDeliveryCount(): number {
    return this.args[0].info.deliveryCount;
  }
}
