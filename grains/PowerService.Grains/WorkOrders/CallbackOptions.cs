using PowerService.Grains.Hosting;

namespace PowerService.Grains.WorkOrders;

/// <summary>Callback (回访) settings (configuration section <c>Workflow:Callback</c>).</summary>
public sealed class CallbackOptions
{
    /// <summary>The callback must happen within this time of completion.</summary>
    public TimeSpan DueWithin { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Delay before each retry of an unreachable customer; when they run out the order closes as unreachable.</summary>
    public IList<TimeSpan> RetryDelays { get; } = [TimeSpan.FromHours(2), TimeSpan.FromHours(4), TimeSpan.FromHours(8)];

    /// <summary>A callback due before the order is resolved, or a retry at or before the attempt it follows, is refused
    /// naming the setting.</summary>
    internal void Validate()
    {
        WorkflowSettings.Require("Callback", DueWithin > TimeSpan.Zero, nameof(DueWithin), $"must be positive, not {DueWithin:c}");
        for (var i = 0; i < RetryDelays.Count; i++)
        {
            WorkflowSettings.Require("Callback", RetryDelays[i] > TimeSpan.Zero, $"{nameof(RetryDelays)}:{i}", $"must be positive, not {RetryDelays[i]:c}");
        }
    }
}
