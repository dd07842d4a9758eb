namespace PowerService.Grains.Dispatch;

/// <summary>Dispatch settings (configuration section <c>Workflow:Dispatch</c>).</summary>
public sealed class DispatchOptions
{
    /// <summary>How long a crew has to accept an offered order before it is re-dispatched to the next best crew.</summary>
    public TimeSpan AcceptTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Farthest a crew may be from the site when it reports its arrival (straight line): a geocoded address and
    /// a phone's GPS are each off by some hundreds of metres, a crew at the depot by kilometres. Farther, the crew's own
    /// "arrived" is refused — it would stop the arrival promise as met — and a dispatcher records it instead if the
    /// position is what is wrong.</summary>
    public double ArrivalRadiusKm { get; set; } = 2;

    /// <summary>How old the crew's last reported position may be to stand for its place when it reports its arrival
    /// without a position (the PDA sends the device's position with each step when it has one).</summary>
    public TimeSpan ArrivalPositionAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Road distance over straight-line distance.</summary>
    public double RoadFactor { get; set; } = 1.4;

    /// <summary>Average travel speed on the road.</summary>
    public double TravelSpeedKmh { get; set; } = 40;

    /// <summary>Backlog size at which the region switches to storm mode (batch assignment).</summary>
    public int StormBacklogThreshold { get; set; } = 50;

    /// <summary>How often storm mode assigns the backlog.</summary>
    public TimeSpan StormBatchInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most orders one storm batch assigns (the most urgent first); the rest wait for the next batch.</summary>
    public int StormBatchSize { get; set; } = 1_000;

    /// <summary>Minutes added to a crew's score per order it already holds: the time a queued order waits behind it.</summary>
    public double LoadPenaltyMinutes { get; set; } = 20;

    /// <summary>How often dispatch saves its roster and, outside storm mode, retries the backlog when a crew has
    /// reported since (a crew whose shift starts reports nothing, so the backlog is also retried every minute).</summary>
    public TimeSpan BacklogInterval { get; set; } = TimeSpan.FromSeconds(1);
}
