using Orchestrations.ThingSpace.Models;
using Orchestrations.Workflows.Provisioning.Models;
using Orchestrations.Workflows.Provisioning.Outcomes;

namespace Orchestrations.Workflows.Tests.Provisioning;

/// <summary>How a chunk's activation messages are filed per device before its outcomes are decided.</summary>
public sealed class ActivationSettlementTests
{
    private static readonly JobDevice[] Devices =
    [
        new([new DeviceId { Kind = "imei", Id = "350000000000001" }, new DeviceId { Kind = "iccid", Id = "89148000000000000001" }]),
        new([new DeviceId { Kind = "imei", Id = "350000000000002" }]),
    ];

    private static DeviceCallbackResult Message(string kind, string id, bool succeeded) =>
        new([new DeviceId { Kind = kind, Id = id }], succeeded, succeeded ? "Success" : "Failed", succeeded ? null : "E1", succeeded ? null : "rejected", "ActivateResponse");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_failure_wins_over_a_success_for_the_same_device_whichever_arrives_first(bool successFirst)
    {
        DeviceIndex index = new(Devices);
        Dictionary<int, DeviceCallbackResult> kept = [];
        DeviceCallbackResult success = Message("imei", "350000000000001", succeeded: true);
        DeviceCallbackResult failure = Message("ICCID", "89148000000000000001", succeeded: false); // same device, other identifier

        foreach (DeviceCallbackResult m in successFirst ? [success, failure] : new[] { failure, success })
        {
            ActivationSettlement.Keep(kept, index, m);
        }

        Assert.Equal([0], kept.Keys);
        Assert.Same(failure, kept[0]);
    }

    [Fact]
    public void The_first_of_two_successes_is_kept_and_messages_for_other_devices_are_ignored()
    {
        DeviceIndex index = new(Devices);
        Dictionary<int, DeviceCallbackResult> kept = [];
        DeviceCallbackResult first = Message("imei", "350000000000002", succeeded: true);

        ActivationSettlement.Keep(kept, index, first);
        ActivationSettlement.Keep(kept, index, Message("imei", "350000000000002", succeeded: true));
        ActivationSettlement.Keep(kept, index, Message("imei", "359999999999999", succeeded: false));

        Assert.Equal([1], kept.Keys);
        Assert.Same(first, kept[1]);
    }
}
