namespace PowerService.Grains.Ami;

/// <summary>Limits of the AMI ingestion path.</summary>
public sealed class IngestionOptions
{
    /// <summary>Events accepted but not yet applied, at most; a batch that would exceed it is refused (503 with
    /// Retry-After) instead of queueing without bound. About 100 bytes an event.</summary>
    public int QueueCapacity { get; set; } = 500_000;

    /// <summary>Events the pump takes from the queue at once: one catalog read and one call per transformer area.</summary>
    public int MaxBatch { get; set; } = 25_000;

    /// <summary>Transformer area calls in flight at once. A storm's batch reaches thousands of areas; sent all at once,
    /// their turns (and the outages, repair orders and notices they start) would queue ahead of every dispatcher's and
    /// crew's call on the same threads. A bound keeps that queue short.</summary>
    public int AreaCallsInFlight { get; set; } = 32;

    /// <summary>How far ahead of the silo's clock an event's time may be. A meter applies only events newer than the newest
    /// it applied, so one event stamped years ahead by a head-end clock fault would make it ignore every true event
    /// after it.</summary>
    public TimeSpan FutureTolerance { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How old an event may be. A head-end delivers its backlog late, hours or days after a link failure; an
    /// event stamped years ago is a clock that was reset (2001-01-01 is a common default): taken at its word, it opened an
    /// outage "started 2001" whose minutes made a month's SAIDI 17,048 and its availability negative.</summary>
    public TimeSpan PastTolerance { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Events in one submitted batch (one HTTP request).</summary>
    public int MaxSubmission { get; set; } = 10_000;

    /// <summary>How long an acknowledged batch stays in the meter event log (<see cref="MeterEventLog"/>), replayed
    /// after a crash. It must be longer than areas take to store their meters' flags (written behind, 5 s after a
    /// change, behind the store's other background writes in a storm): a crash replays the events of the last
    /// retention, which costs a start about a second per 100,000 events.</summary>
    public TimeSpan LogRetention { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often records older than <see cref="LogRetention"/> are deleted.</summary>
    public TimeSpan LogTrimInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <param name="slowestArea">The longest an area takes to write behind what its events changed.</param>
    internal void Validate(TimeSpan slowestArea)
    {
        if (QueueCapacity < 1 || MaxBatch < 1 || MaxSubmission < 1 || AreaCallsInFlight < 1 || MaxSubmission > QueueCapacity || FutureTolerance < TimeSpan.Zero || PastTolerance <= TimeSpan.Zero)
        {
            throw new ArgumentException("Ingestion: QueueCapacity, MaxBatch, MaxSubmission and AreaCallsInFlight are positive, MaxSubmission <= QueueCapacity, FutureTolerance is not negative, PastTolerance is positive.");
        }
        if (LogRetention < slowestArea * 4 || LogTrimInterval < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException(
                $"Ingestion: LogRetention is at least {(slowestArea * 4).TotalSeconds:0} s (four times the areas' write-behind delay of {slowestArea.TotalSeconds:0} s), LogTrimInterval at least 1 s.");
        }
    }
}
