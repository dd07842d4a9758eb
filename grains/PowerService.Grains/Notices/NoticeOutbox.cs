using PowerService.Grains.Topology;
using PowerService.Runtime;
using PowerService.Runtime.Storage;

namespace PowerService.Grains.Notices;

/// <summary>Resolves a notice's audience from the topology catalog and puts one outbox message per customer in the
/// store. The catalog is read a chunk of areas at a time (one query for their meters, one for those meters' customers),
/// never a query per customer, and messages are added <see cref="NoticeOptions.EnqueueChunkSize"/> per transaction:
/// a storm notice to a million customers streams through in bounded memory. The store skips deduplication keys it
/// already holds, so enqueueing again (after a crash, or a retried grain call) adds nothing.
/// It opens with the silo (an <see cref="ISiloService"/>), because the store is the silo's.</summary>
internal sealed class NoticeOutbox(NoticeOptions options, NoticeSignal signal, NoticeMetrics metrics) : INoticeOutbox, ISiloService
{
    // Parents per catalog read: large enough to keep round trips few, small enough for one statement's parameters.
    private const int AreasPerRead = 200;
    private const int MetersPerRead = 2_000;

    private IStorageProvider? _storage;
    private TimeProvider _clock = TimeProvider.System;

    public Task StartAsync(Silo silo, CancellationToken cancellationToken)
    {
        options.Validate();
        _storage = silo.Storage;
        _clock = silo.TimeProvider;
        return Task.CompletedTask;
    }

    // Grains may still enqueue while the silo deactivates them, after services stop: the store stays open until then.
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<int> EnqueueAsync(OutageNotice notice, NoticeAudience audience, CancellationToken cancellationToken = default)
    {
        Validate(notice, audience);
        var storage = _storage ?? throw new InvalidOperationException("The notice outbox opens when the silo starts.");
        var text = CustomerNotice.TextOf(notice, options.LocalOffset);
        var created = _clock.GetUtcNow();
        var pending = new List<OutboxMessage>(options.EnqueueChunkSize);
        var added = 0;
        await foreach (var customers in CustomersAsync(storage, audience, cancellationToken))
        {
            foreach (var entry in customers)
            {
                pending.Add(MessageFor(TopologyJson.Deserialize<CustomerEntry>(entry), notice, text, created));
                if (pending.Count >= options.EnqueueChunkSize)
                {
                    added += await AddAsync(storage, pending, cancellationToken);
                }
            }
        }
        return added + await AddAsync(storage, pending, cancellationToken);
    }

    /// <summary>Adds one chunk and wakes the delivery: a storm notice starts going out while the rest is still added.</summary>
    private async Task<int> AddAsync(IStorageProvider storage, List<OutboxMessage> pending, CancellationToken cancellationToken)
    {
        var added = await storage.EnqueueNotificationsAsync(pending, cancellationToken);
        pending.Clear();
        if (added > 0)
        {
            metrics.Enqueued(added);
            signal.Pulse();
        }
        return added;
    }

    /// <summary>(outage, kind, revision, customer): the same notice to the same customer is stored once.</summary>
    public static string DeduplicationKey(OutageNotice notice, string customerId) =>
        $"{notice.OutageId}/{notice.Kind}/{notice.Revision}/{customerId}";

    private OutboxMessage MessageFor(CustomerEntry customer, OutageNotice notice, string text, DateTimeOffset created)
    {
        var channel = customer.NoticeChannel is { } chosen
            ? NoticeChannelNames.Of(chosen)
            : customer.Phone is null ? options.ChannelWithoutPhone : options.ChannelWithPhone;
        // The import refuses sms without a phone, so an SMS always has a number to go to.
        var recipient = channel == NoticeChannelNames.Sms && customer.Phone is { } phone ? phone : customer.Id;
        var payload = new CustomerNotice(
            customer.Id, channel, notice.Kind, notice.OutageId, notice.Revision, notice.At, notice.StartsAt, notice.EstimatedRestorationAt,
            notice.Cause, text);
        return new OutboxMessage(DeduplicationKey(notice, customer.Id), channel, recipient, payload.ToJson(), created);
    }

    /// <summary>The audience's customers, a chunk of catalog entries at a time.</summary>
    private static async IAsyncEnumerable<IReadOnlyList<CatalogEntry>> CustomersAsync(
        IStorageProvider storage, NoticeAudience audience, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (audience.MeterIds is { } meterIds)
        {
            foreach (var meters in meterIds.Distinct(StringComparer.Ordinal).Chunk(MetersPerRead))
            {
                yield return await storage.ReadCatalogChildrenAsync(TopologyKinds.Customer, meters, cancellationToken);
            }
            yield break;
        }
        var except = audience.ExceptMeterIds is { Count: > 0 } left ? new HashSet<string>(left, StringComparer.Ordinal) : null;
        foreach (var areas in audience.TransformerAreaIds.Distinct(StringComparer.Ordinal).Chunk(AreasPerRead))
        {
            var meters = await storage.ReadCatalogChildrenAsync(TopologyKinds.Meter, areas, cancellationToken);
            foreach (var meterKeys in meters.Select(m => m.Key).Where(m => except is null || !except.Contains(m)).Chunk(MetersPerRead))
            {
                yield return await storage.ReadCatalogChildrenAsync(TopologyKinds.Customer, meterKeys, cancellationToken);
            }
        }
    }

    private static void Validate(OutageNotice notice, NoticeAudience audience)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentNullException.ThrowIfNull(audience);
        if (string.IsNullOrWhiteSpace(notice.OutageId))
        {
            throw new InvalidFieldException("outageId", "A notice names its outage.");
        }
        if (notice.Revision < 0)
        {
            throw new InvalidFieldException("revision", "A notice revision is 0 or more.");
        }
        if (!Enum.IsDefined(notice.Kind))
        {
            throw new InvalidFieldException("kind", $"'{notice.Kind}' is not a notice kind.");
        }
        if (audience.TransformerAreaIds is null || audience.TransformerAreaIds.Any(string.IsNullOrWhiteSpace)
            || audience.MeterIds?.Any(string.IsNullOrWhiteSpace) == true)
        {
            throw new InvalidFieldException(audience.MeterIds is null ? "transformerAreaIds" : "meterIds", "An audience lists area and meter ids, none empty.");
        }
    }
}
