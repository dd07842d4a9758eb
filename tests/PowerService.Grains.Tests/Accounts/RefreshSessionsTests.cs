using PowerService.Grains.Accounts;
using PowerService.Grains.Tests.Support;

namespace PowerService.Grains.Tests.Accounts;

/// <summary>A user's sign-ins as the silo keeps them: started at sign-in, renewed once per refresh token, ended by
/// signing out; a sign-in not kept is over.</summary>
public sealed class RefreshSessionsTests
{
    private static readonly TimeSpan Fortnight = TimeSpan.FromDays(14);

    /// <summary>A signed-out sign-in came back to life once 64 newer sign-ins of the user had pushed it out (verification
    /// pass): the grain forgot it, said it was not ended, and renewed its refresh token as a first renewal. A sign-in it
    /// does not keep is over now, whatever pushed it out.</summary>
    [Fact]
    public async Task A_signed_out_sign_in_stays_over_when_newer_sign_ins_push_it_out()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var sessions = silo.Grain<IRefreshSessionsGrain>("crew-c12");
        var until = silo.Clock.GetUtcNow() + Fortnight;
        await sessions.Start("signed-out", until);
        await sessions.End("signed-out");

        for (var i = 0; i < IRefreshSessionsGrain.KeptPerName; i++)
        {
            await sessions.Start($"newer-{i}", until);
            silo.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.True(await sessions.IsEnded("signed-out"));
        Assert.Null(await sessions.Renew("signed-out", 0, until));
        Assert.False(await sessions.IsEnded($"newer-{IRefreshSessionsGrain.KeptPerName - 1}"));
        Assert.Equal(1, await sessions.Renew($"newer-{IRefreshSessionsGrain.KeptPerName - 1}", 0, until));
    }

    [Fact]
    public async Task A_sign_in_never_started_here_is_over_and_one_started_renews_once_per_token()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var sessions = silo.Grain<IRefreshSessionsGrain>("dispatcher-li");
        var until = silo.Clock.GetUtcNow() + Fortnight;

        Assert.True(await sessions.IsEnded("made-up"));
        Assert.Null(await sessions.Renew("made-up", 0, until));
        await sessions.Start("s-1", until);
        Assert.False(await sessions.IsEnded("s-1"));
        Assert.Equal(1, await sessions.Renew("s-1", 0, until));
        Assert.Equal(2, await sessions.Renew("s-1", 1, until));

        silo.Advance(Fortnight + TimeSpan.FromMinutes(1));

        Assert.True(await sessions.IsEnded("s-1")); // its refresh token expired unrenewed
    }
}
