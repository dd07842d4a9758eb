namespace PowerService.Grains.Dispatch;

/// <summary>Dispatch settings (configuration section <c>Workflow:Dispatch</c>).</summary>
public sealed class DispatchOptions
{
    /// <summary>How long a crew has to accept an offered order before it is re-dispatched to the next best crew.</summary>
    public TimeSpan AcceptTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Road distance over straight-line distance.</summary>
    public double RoadFactor { get; set; } = 1.4;

    /// <summary>Average travel speed on the road.</summary>
    public double TravelSpeedKmh { get; set; } = 40;

    /// <summary>Backlog size at which the region switches to storm mode (batch assignment).</summary>
    public int StormBacklogThreshold { get; set; } = 50;

    /// <summary>How often storm mode assigns the backlog.</summary>
    public TimeSpan StormBatchInterval { get; set; } = TimeSpan.FromSeconds(10);
}
