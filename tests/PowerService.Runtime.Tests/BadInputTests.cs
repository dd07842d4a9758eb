using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;

namespace PowerService.Runtime.Tests;

public sealed class BadInputTests : SqliteSiloTests
{
    [Fact]
    public void An_interface_without_a_grain_class_is_refused_by_name()
    {
        var error = Assert.Throws<GrainTypeNotFoundException>(() => Silo.Grain<IOrphanGrain>("x"));

        Assert.Contains(typeof(IOrphanGrain).FullName!, error.Message);
        Assert.Contains(nameof(SiloOptions.AddGrainsFrom), error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void An_empty_key_is_refused(string key)
    {
        var error = Assert.Throws<ArgumentException>(() => Silo.Grain<ICounterGrain>(key));

        Assert.Equal("key", error.ParamName);
    }

    [Fact]
    public async Task Unserializable_state_is_a_clear_error_and_the_stored_state_is_untouched()
    {
        var grain = Silo.Grain<IUnserializableGrain>("u-1");
        await grain.SaveGood("first");

        var error = await Assert.ThrowsAsync<StateSerializationException>(grain.SaveBad);
        Assert.Contains("UnserializableGrain/u-1", error.Message);
        Assert.Contains("nothing was written", error.Message);

        var stored = await Silo.Silo.Storage.ReadStateAsync(new GrainId("UnserializableGrain", "u-1"));
        Assert.NotNull(stored);
        Assert.Contains("first", System.Text.Encoding.UTF8.GetString(stored.Payload));
        Assert.Equal(1, stored.Version);
    }

    [Fact]
    public async Task Registering_a_reminder_with_a_sub_second_period_is_refused()
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            Silo.Grain<IReminderGrain>("r").Schedule("sla", TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(10)));

        Assert.Equal("period", error.ParamName);
    }
}
