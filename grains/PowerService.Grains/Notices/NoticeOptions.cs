using PowerService.Grains.Hosting;

namespace PowerService.Grains.Notices;

/// <summary>Settings of the customer notice outbox and its delivery. Bound from <c>Workflow:Notices</c>.</summary>
public sealed class NoticeOptions
{
    private const string Section = "Notices";

    /// <summary>Where the file-backed channels write their JSON lines (one file per channel), relative to the working
    /// folder like the SQLite store's <c>data/powerservice.db</c>.</summary>
    public string Folder { get; set; } = Path.Combine("data", "notices");

    /// <summary>Channels served by the file-backed adapter unless <see cref="Adapters"/> or the host's services give
    /// another adapter of the same name.</summary>
    public IList<string> FileChannels { get; } = [NoticeChannelNames.Sms, NoticeChannelNames.App, NoticeChannelNames.WeChat];

    /// <summary>Adapters that replace the file-backed one of the same name (a real SMS gateway client).</summary>
    public IList<INoticeChannel> Adapters { get; } = [];

    /// <summary>The channel of a customer with a phone and no <c>notice_channel</c> in the customers file.</summary>
    public string ChannelWithPhone { get; set; } = NoticeChannelNames.Sms;

    /// <summary>The channel of a customer without a phone and no <c>notice_channel</c>.</summary>
    public string ChannelWithoutPhone { get; set; } = NoticeChannelNames.App;

    /// <summary>Customer notices added to the outbox per store transaction while enqueueing one outage's audience.</summary>
    public int EnqueueChunkSize { get; set; } = 5_000;

    /// <summary>Most messages claimed, delivered and marked as one batch.</summary>
    public int DeliveryBatchSize { get; set; } = 500;

    /// <summary>How long a claimed message is held by this delivery before another claim may take it again: the retry
    /// delay of a failed delivery and the longest a crash keeps a message back.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How soon an idle delivery looks again for messages (leases that ran out, other silos' notices); it
    /// doubles while nothing comes, up to <see cref="MaxPollInterval"/>. Notices enqueued in this silo wake it at once.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The customers' clock, for the times written in the notice text (China Standard Time).</summary>
    public TimeSpan LocalOffset { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long a delivered notice stays in the outbox (its deduplication key with it): then it is deleted, in an
    /// hourly pass (the outbox kept every notice ever sent: ~570 B each, 0.6 GB a million-customer storm).</summary>
    public TimeSpan DeliveredKept { get; set; } = TimeSpan.FromDays(30);

    internal void Validate()
    {
        WorkflowSettings.Require(Section, !string.IsNullOrWhiteSpace(Folder), nameof(Folder), "must name a folder");
        WorkflowSettings.Require(Section, EnqueueChunkSize > 0, nameof(EnqueueChunkSize), "must be positive");
        WorkflowSettings.Require(Section, DeliveryBatchSize > 0, nameof(DeliveryBatchSize), "must be positive");
        WorkflowSettings.Require(Section, Lease > TimeSpan.Zero, nameof(Lease), "must be positive");
        WorkflowSettings.Require(Section, PollInterval > TimeSpan.Zero, nameof(PollInterval), "must be positive");
        WorkflowSettings.Require(Section, MaxPollInterval >= PollInterval, nameof(MaxPollInterval), "must be at least the poll interval");
        WorkflowSettings.Require(Section, DeliveredKept >= TimeSpan.FromDays(1), nameof(DeliveredKept), "must be at least a day (a notice's key keeps it from going out twice)");
        // DateTimeOffset takes whole minutes within ±14 h: outside them every notice failed to be written, only logged.
        WorkflowSettings.Require(Section, WorkflowSettings.IsUtcOffset(LocalOffset),
            nameof(LocalOffset), "must be whole minutes between -14:00:00 and 14:00:00 (a UTC offset, e.g. 08:00:00)");
        WorkflowSettings.Require(Section, NoticeChannelNames.IsKnown(ChannelWithPhone), nameof(ChannelWithPhone), "must be sms, app or wechat");
        WorkflowSettings.Require(Section, NoticeChannelNames.IsKnown(ChannelWithoutPhone) && ChannelWithoutPhone != NoticeChannelNames.Sms,
            nameof(ChannelWithoutPhone), "must be app or wechat (an SMS needs a phone)");
    }
}
