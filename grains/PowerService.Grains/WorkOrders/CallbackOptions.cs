namespace PowerService.Grains.WorkOrders;

/// <summary>Callback (回访) settings (configuration section <c>Workflow:Callback</c>).</summary>
public sealed class CallbackOptions
{
    /// <summary>The callback must happen within this time of completion.</summary>
    public TimeSpan DueWithin { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Delay before each retry of an unreachable customer; when they run out the order closes as unreachable.</summary>
    public IList<TimeSpan> RetryDelays { get; } = [TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8)];
}
