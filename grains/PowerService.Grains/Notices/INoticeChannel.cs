namespace PowerService.Grains.Notices;

/// <summary>Sends customer notices through one channel (an SMS gateway, the app's push service, WeChat template
/// messages). Delivery is at least once: after a crash a message may be handed over again, so an adapter passes
/// <see cref="NoticeMessage.DeduplicationKey"/> on as the gateway's client message id (or checks it itself) and a
/// second hand-over does not reach the customer twice.</summary>
public interface INoticeChannel
{
    /// <summary>"sms", "app" or "wechat": the channel names of the outbox (<see cref="NoticeChannelNames"/>).</summary>
    string Name { get; }

    /// <summary>Delivers a batch; reports which messages the channel accepted and which failed. A message in neither
    /// list, or an exception, counts as failed: it is offered again after the outbox lease runs out.</summary>
    Task<NoticeDeliveryReport> DeliverAsync(IReadOnlyList<NoticeMessage> batch, CancellationToken cancellationToken);
}

/// <summary>One customer notice to send. <paramref name="Recipient"/> is the channel's address: a phone number for
/// SMS, the customer id for the app and WeChat (both bind their accounts to it). <paramref name="PayloadJson"/> is a
/// <see cref="CustomerNotice"/>. <paramref name="Attempt"/> counts hand-overs, 1 for the first.</summary>
public sealed record NoticeMessage(long Id, string DeduplicationKey, string Recipient, string PayloadJson, int Attempt);

/// <summary>What a channel did with a batch: the ids of the messages it accepted and of those that failed.</summary>
public sealed record NoticeDeliveryReport(IReadOnlyList<long> Delivered, IReadOnlyList<long> Failed);
