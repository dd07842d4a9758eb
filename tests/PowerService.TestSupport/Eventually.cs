namespace PowerService.TestSupport;

/// <summary>Waits for what a silo does in the background (reminders, timers, write-behind) without fixed sleeps.</summary>
public static class Eventually
{
    /// <summary>Polls until the condition holds; fails the test with <paramref name="what"/> after the timeout.</summary>
    public static async Task True(Func<Task<bool>> condition, string what, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!await condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }
            await Task.Delay(10);
        }
    }

    public static Task True(Func<bool> condition, string what, int timeoutMs = 10_000) =>
        True(() => Task.FromResult(condition()), what, timeoutMs);
}
